/**
 * The peer's unidirectional streams (RFC 9114 §6.2, RFC 9204 §4.2): the stream type is read
 * first (exactly, no byte further), then the stream goes to its handler: the control stream
 * (frames checked by H3FrameParser, SETTINGS first), the QPACK encoder and decoder streams, or,
 * for an unknown or reserved type, STOP_SENDING with H3_STREAM_CREATION_ERROR (§6.2). Critical
 * streams closed or reset are H3_CLOSED_CRITICAL_STREAM; a second one of a kind is
 * H3_STREAM_CREATION_ERROR; push streams are refused (we never send MAX_PUSH_ID).
 */
import type { HTTP3Frame, HTTP3StreamType } from '../trace/h3-events.ts';
import { H3Error, H3ErrorCode, isReservedH3Codepoint } from './errors.ts';
import { H3FrameParser, H3StreamType } from './frames.ts';
import type { H3Frame } from './frames.ts';
import type { QpackDecoder, UnblockedSection } from './qpack/decoder.ts';
import type { QpackEncoder } from './qpack/encoder.ts';
import { qlogControlFrame } from './qlog.ts';
import { Pull, VarintReader } from './stream-reader.ts';
import { streamErrorOf } from './transport.ts';
import type { H3Transport } from './transport.ts';

/** What the unidirectional streams report to the connection. */
export interface UniStreamsHost {
  readonly isClient: boolean;
  readonly encoder: QpackEncoder;
  readonly decoder: QpackDecoder;
  /** Set when the QPACK decoder may have decoder-stream bytes to send. */
  decoderOutput: boolean;
  /** A stream's type became known (qlog stream_type_set). */
  onStreamType(streamId: number, type: HTTP3StreamType, typeBytes: number): void;
  /** A control-stream frame was parsed (qlog frame_parsed). */
  onFrameParsed(streamId: number, frame: HTTP3Frame): void;
  /** The peer's SETTINGS (RFC 9114 §7.2.4). */
  onSettings(settings: Map<number, number>): void;
  /** The peer's GOAWAY (RFC 9114 §5.2, §7.2.6). */
  onGoaway(id: number): void;
  /** Field sections the QPACK encoder stream unblocked (RFC 9204 §2.2.1). */
  onUnblocked(sections: UnblockedSection[]): void;
}

type PeerUni =
  | { kind: 'type'; pull: Pull; varint: VarintReader }
  | { kind: 'control'; pull: Pull; parser: H3FrameParser }
  | { kind: 'encoder' | 'decoder'; pull: Pull }
  | { kind: 'ignored' };

function critical(what: string): H3Error {
  return new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `the peer's ${what} stream was closed`);
}

/** The peer's unidirectional streams of one HTTP/3 connection. */
export class UniStreams {
  private readonly streams = new Map<number, PeerUni>();
  private control = -1;
  private encoderStream = -1;
  private decoderStream = -1;
  private maxPushId = -1;

  constructor(
    private readonly quic: H3Transport,
    private readonly host: UniStreamsHost,
    private readonly scratch: Uint8Array,
  ) {}

  /** Reads what stream `id` has now. Raises `H3Error` for connection errors. */
  process(id: number): void {
    let s = this.streams.get(id);
    if (s === undefined) {
      const pull = new Pull((out) => this.quic.streamRecv(id, out));
      s = { kind: 'type', pull, varint: new VarintReader() };
      this.streams.set(id, s);
    }
    try {
      this.read(id, s);
    } catch (e) {
      const err = streamErrorOf(e);
      if (err === null || err.kind !== 'reset') throw e;
      // RESET_STREAM from the peer.
      this.streams.delete(id);
      if (s.kind === 'control') throw critical('control');
      if (s.kind === 'encoder' || s.kind === 'decoder') throw critical(`QPACK ${s.kind}`);
      // §6.2: a receiver tolerates a stream reset before its header; others have no meaning.
    }
  }

  private read(id: number, s: PeerUni): void {
    const scratch = this.scratch;
    for (;;) {
      switch (s.kind) {
        case 'type': {
          const type = s.varint.read(s.pull);
          if (type < 0) {
            if (s.pull.fin) this.streams.delete(id); // §6.2: closed before its header: tolerated
            return;
          }
          s = this.onType(id, type, s.pull);
          if (s.kind === 'ignored') {
            this.streams.delete(id);
            return;
          }
          this.streams.set(id, s);
          break;
        }
        case 'control': {
          const n = s.pull.read(scratch);
          if (n > 0) for (const f of s.parser.feed(scratch.subarray(0, n))) this.onControlFrame(id, f);
          if (s.pull.fin) throw critical('control'); // §6.2.1
          if (n === 0) return;
          break;
        }
        case 'encoder': {
          const n = s.pull.read(scratch);
          if (n > 0) {
            this.host.decoderOutput = true; // Insert Count Increments (RFC 9204 §4.4.3)
            this.host.onUnblocked(this.host.decoder.onEncoderStream(scratch.subarray(0, n)));
          }
          if (s.pull.fin) throw critical('QPACK encoder'); // RFC 9204 §4.2
          if (n === 0) return;
          break;
        }
        case 'decoder': {
          const n = s.pull.read(scratch);
          if (n > 0) this.host.encoder.onDecoderStream(scratch.subarray(0, n));
          if (s.pull.fin) throw critical('QPACK decoder'); // RFC 9204 §4.2
          if (n === 0) return;
          break;
        }
        case 'ignored':
          return;
      }
    }
  }

  private onType(id: number, type: number, pull: Pull): PeerUni {
    const host = this.host;
    const duplicate = (what: string): never => {
      throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `a second ${what} stream (${id})`);
    };
    switch (type) {
      case H3StreamType.CONTROL:
        if (this.control >= 0) duplicate('control'); // §6.2.1
        this.control = id;
        host.onStreamType(id, 'control', type);
        return { kind: 'control', pull, parser: new H3FrameParser('control') };
      case H3StreamType.PUSH:
        host.onStreamType(id, 'push', type);
        // §6.2.2: only servers push; §4.6: a push stream without our MAX_PUSH_ID is H3_ID_ERROR.
        if (!host.isClient)
          throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'push stream from a client');
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'push stream, but no MAX_PUSH_ID was sent');
      case H3StreamType.QPACK_ENCODER:
        if (this.encoderStream >= 0) duplicate('QPACK encoder'); // RFC 9204 §4.2
        this.encoderStream = id;
        host.onStreamType(id, 'qpack_encode', type);
        return { kind: 'encoder', pull };
      case H3StreamType.QPACK_DECODER:
        if (this.decoderStream >= 0) duplicate('QPACK decoder');
        this.decoderStream = id;
        host.onStreamType(id, 'qpack_decode', type);
        return { kind: 'decoder', pull };
      default:
        // §6.2: unknown and reserved types are ignored: abort reading, never a connection error.
        host.onStreamType(id, isReservedH3Codepoint(type) ? 'reserved' : 'unknown', type);
        this.quic.streamShutdown(id, 'read', H3ErrorCode.H3_STREAM_CREATION_ERROR);
        return { kind: 'ignored' };
    }
  }

  private onControlFrame(id: number, f: H3Frame): void {
    const host = this.host;
    host.onFrameParsed(id, qlogControlFrame(f));
    switch (f.type) {
      case 'settings':
        host.onSettings(f.settings);
        return;
      case 'goaway':
        host.onGoaway(f.id);
        return;
      case 'max_push_id':
        // §7.2.7: only clients send it, and it never decreases.
        if (host.isClient) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
        if (f.pushId < this.maxPushId)
          throw new H3Error(H3ErrorCode.H3_ID_ERROR, `MAX_PUSH_ID ${f.pushId} below ${this.maxPushId}`);
        this.maxPushId = f.pushId;
        return;
      case 'cancel_push':
        // §7.2.3: we promise nothing (server) and allow no push ID (client).
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH for push ${f.pushId}, which cannot exist`);
      default:
        return; // unknown and reserved frames (§9); the parser refuses the rest (Table 1)
    }
  }
}
