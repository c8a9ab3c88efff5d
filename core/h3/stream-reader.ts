/**
 * Incremental readers of HTTP/3 streams that pull bytes from QUIC (RFC 9114 §6, §7.1).
 *
 * They read exactly what the protocol needs and no byte further: a varint a byte at a time
 * (first byte, then the rest of its length), a HEADERS payload into one exact-size buffer, an
 * unknown frame's payload into a scratch buffer that is thrown away. A DATA payload is not read
 * here at all: `readData` moves it from QUIC straight into the caller's buffer, so a frame of any
 * size flows through in O(n) with memory bounded by the QUIC receive window, and nothing is ever
 * re-joined.
 */
import { H3Error, H3ErrorCode } from './errors.ts';
import { varintAt } from '../wire/buffer.ts';
import { H3FrameType, checkFrameAllowed } from './frames.ts';

/** Where a reader gets its bytes: like `Connection.streamRecv`, reads into `out`. */
export type StreamSource = (out: Uint8Array) => { length: number; fin: boolean } | null;

/** A source wrapper that remembers the end of the stream and never reads past it. */
export class Pull {
  /** The stream's FIN was read. */
  fin = false;

  constructor(private readonly src: StreamSource) {}

  /** Reads into `out`; returns the bytes read (0 when none now, or at the end). */
  read(out: Uint8Array): number {
    if (this.fin) return 0;
    const r = this.src(out);
    if (r === null) return 0;
    if (r.fin) this.fin = true;
    return r.length;
  }
}

/** Reads one varint (RFC 9000 §16) from a `Pull` without consuming any byte after it. */
export class VarintReader {
  private readonly bytes = new Uint8Array(8);
  private have = 0;

  /** True while a varint is partly read. */
  get started(): boolean {
    return this.have > 0;
  }

  /** The value once complete, else -1 (the source has no more bytes now, or ended). */
  read(pull: Pull): number {
    const b = this.bytes;
    for (;;) {
      const want = this.have === 0 ? 1 : 1 << (b[0] >> 6);
      if (this.have === want) {
        this.have = 0;
        return varintAt(b, 0);
      }
      const n = pull.read(b.subarray(this.have, want));
      if (n === 0) return -1;
      this.have += n;
    }
  }
}

/** What a request stream reader found. */
export type ReaderItem =
  /** A DATA frame header: `length` payload bytes follow, to be read with `readData`. */
  | { type: 'data'; length: number }
  /** A complete HEADERS frame. */
  | { type: 'headers'; fieldSection: Uint8Array }
  /** An unknown or reserved frame type (RFC 9114 §7.2.8, §9): its payload is skipped. */
  | { type: 'unknown'; frameType: number; length: number }
  /** The stream ended cleanly at a frame boundary. */
  | { type: 'end' };

const State = { Type: 0, Length: 1, Data: 2, Payload: 3, Skip: 4, End: 5 } as const;
type State = (typeof State)[keyof typeof State];

/** Options of a RequestStreamReader. */
export interface RequestStreamReaderOptions {
  /** The reading endpoint is the client (it reads responses); decides how PUSH_PROMISE fails. */
  isClient: boolean;
  /** Largest HEADERS payload accepted; larger is a stream error H3_EXCESSIVE_LOAD (RFC 9114 §4.2.2). */
  maxHeadersLength: number;
  /** Scratch buffer the payloads of unknown frames are read into and dropped. */
  scratch: Uint8Array;
}

/**
 * The frame layer of one request stream (RFC 9114 §4.1, §7.1, Table 1): frame headers, buffered
 * HEADERS payloads, skipped unknown frames, and DATA payloads read straight into the caller's
 * buffer. Frames that may not appear on a request stream are connection errors.
 */
export class RequestStreamReader {
  private state: State = State.Type;
  private readonly varint = new VarintReader();
  private frameType = 0;
  private remaining = 0;
  private buffer: Uint8Array | null = null;
  private filled = 0;
  private readonly pull: Pull;

  constructor(
    src: StreamSource,
    private readonly options: RequestStreamReaderOptions,
  ) {
    this.pull = new Pull(src);
  }

  /** Payload bytes of the current DATA frame not read yet (0 outside a DATA payload). */
  get dataRemaining(): number {
    return this.state === State.Data ? this.remaining : 0;
  }

  /** Whether the stream's FIN has been read. */
  get finRead(): boolean {
    return this.pull.fin;
  }

  /**
   * Reads up to the next item. Returns null when the source has no more bytes now, or while a DATA
   * payload is pending (read it with `readData`). Raises `H3Error`.
   */
  next(): ReaderItem | null {
    const pull = this.pull;
    for (;;) {
      switch (this.state) {
        case State.Type: {
          const v = this.varint.read(pull);
          if (v < 0) {
            if (!pull.fin) return null;
            if (this.varint.started) throw truncated();
            this.state = State.End;
            return { type: 'end' };
          }
          this.checkType(v);
          this.frameType = v;
          this.state = State.Length;
          break;
        }
        case State.Length: {
          const v = this.varint.read(pull);
          if (v < 0) {
            if (pull.fin) throw truncated();
            return null;
          }
          const item = this.onLength(v);
          if (item !== null) return item;
          break;
        }
        case State.Payload: {
          const buf = this.buffer as Uint8Array;
          this.filled += pull.read(buf.subarray(this.filled));
          if (this.filled < buf.length) {
            if (pull.fin) throw truncated();
            return null;
          }
          this.buffer = null;
          this.state = State.Type;
          return { type: 'headers', fieldSection: buf };
        }
        case State.Skip: {
          const scratch = this.options.scratch;
          const n = pull.read(scratch.subarray(0, Math.min(this.remaining, scratch.length)));
          this.remaining -= n;
          if (this.remaining > 0) {
            if (n === 0) {
              if (pull.fin) throw truncated();
              return null;
            }
            break;
          }
          this.state = State.Type;
          break;
        }
        case State.Data:
        case State.End:
          return null;
      }
    }
  }

  /**
   * Reads DATA payload bytes of the current frame into `out` (at most `dataRemaining`); returns
   * the bytes read, 0 when none are available now. Raises H3_FRAME_ERROR if the stream ends inside
   * the frame (RFC 9114 §7.1).
   */
  readData(out: Uint8Array): number {
    if (this.state !== State.Data) return 0;
    const want = Math.min(out.length, this.remaining);
    const n = this.pull.read(want === out.length ? out : out.subarray(0, want));
    this.remaining -= n;
    if (this.remaining === 0) this.state = State.Type;
    else if (n < want && this.pull.fin) throw truncated();
    return n;
  }

  /** RFC 9114 Table 1 and §7.2: which frame types may appear on a request stream. */
  private checkType(type: number): void {
    if (type === H3FrameType.DATA || type === H3FrameType.HEADERS) return;
    if (type === H3FrameType.PUSH_PROMISE) {
      // §7.2.5: a server never receives one; a client that sent no MAX_PUSH_ID allows no push ID.
      if (this.options.isClient)
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
      throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'PUSH_PROMISE from a client');
    }
    checkFrameAllowed('request', type);
  }

  private onLength(length: number): ReaderItem | null {
    const type = this.frameType;
    this.remaining = length;
    if (type === H3FrameType.DATA) {
      this.state = length === 0 ? State.Type : State.Data;
      return { type: 'data', length };
    }
    if (type === H3FrameType.HEADERS) {
      if (length > this.options.maxHeadersLength)
        throw new H3Error(
          H3ErrorCode.H3_EXCESSIVE_LOAD,
          `HEADERS frame of ${length} bytes over the ${this.options.maxHeadersLength}-byte limit`,
          'stream',
        );
      this.buffer = new Uint8Array(length);
      this.filled = 0;
      this.state = State.Payload;
      return null;
    }
    // §9: unknown frame types are ignored.
    this.state = length === 0 ? State.Type : State.Skip;
    return { type: 'unknown', frameType: type, length };
  }
}

function truncated(): H3Error {
  // RFC 9114 §7.1: a stream that ends cleanly inside a frame.
  return new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'stream ended inside a frame');
}
