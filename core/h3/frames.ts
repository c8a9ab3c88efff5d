/**
 * HTTP/3 framing (RFC 9114 §7) and unidirectional stream headers (§6.2).
 *
 * `H3FrameParser` parses one stream's bytes as they arrive. DATA payloads are never buffered:
 * each chunk comes out as a subarray of the input with the bytes of the frame still to come, so
 * a frame of any size streams through in O(n). Other frames are buffered up to `maxFrameLength`
 * (a subarray when the payload sits in one input chunk, else one exact-size copy); unknown and
 * reserved frame types are reported and their payload skipped without buffering. The rules of
 * Table 1 (which frame on which stream, SETTINGS first and once on the control stream) are
 * enforced per stream kind; role rules (who may send PUSH_PROMISE or MAX_PUSH_ID) are the
 * connection's. Every violation is an `H3Error` with the RFC 9114 §8.1 code.
 *
 * Emitted byte arrays are views of the caller's input: consume or copy them before reusing it.
 */
import { varintAt, varintLength } from '../wire/buffer.ts';
import type { Writer } from '../wire/buffer.ts';
import { H3Error, H3ErrorCode } from './errors.ts';

/** Frame types of RFC 9114 §7.2 (Table 2, §11.2.1). */
export const H3FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). */
export const H3StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

/** Setting identifiers (RFC 9114 §7.2.4.1, RFC 9204 §5). */
export const H3SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
} as const;

/** The Nth reserved (GREASE) frame type, setting, stream type or error code: 0x1f * N + 0x21 (RFC 9114 §7.2.8). */
export function reservedCodepoint(n: number): number {
  return 0x1f * n + 0x21;
}

/** The stream a parser reads: its kind decides which frames are allowed (RFC 9114 §7, Table 1). */
export type H3StreamKind = 'control' | 'request' | 'push';

/** A parsed frame, or a piece of one for DATA. */
export type H3Frame =
  /** A piece of a DATA frame's payload; `remaining` bytes of this frame follow (0: frame done). */
  | { type: 'data'; data: Uint8Array; remaining: number }
  | { type: 'headers'; fieldSection: Uint8Array }
  | { type: 'cancel_push'; pushId: number }
  | { type: 'settings'; settings: Map<number, number> }
  | { type: 'push_promise'; pushId: number; fieldSection: Uint8Array }
  | { type: 'goaway'; id: number }
  | { type: 'max_push_id'; pushId: number }
  /** An unknown or reserved frame type (§7.2.8, §9): reported, its payload skipped. */
  | { type: 'unknown'; frameType: number; length: number };

/** Options of an `H3FrameParser`. */
export interface H3FrameParserOptions {
  /** Largest payload of a buffered (non-DATA) frame; larger is H3_EXCESSIVE_LOAD. Default 64 KiB. */
  maxFrameLength?: number;
}

// HTTP/2 frame types with no HTTP/3 meaning (§7.2.8, §11.2.1): PRIORITY, PING, WINDOW_UPDATE, CONTINUATION.
const HTTP2_FRAME_TYPES = new Set([0x02, 0x06, 0x08, 0x09]);
// HTTP/2 settings with no HTTP/3 meaning (§7.2.4.1, Appendix A.3).
const HTTP2_SETTINGS = new Set([0x02, 0x03, 0x04, 0x05]);

// Parser states: reading a frame type, a frame length, DATA payload, a buffered payload, a skipped one.
const State = { Type: 0, Length: 1, Data: 2, Buffer: 3, Skip: 4 } as const;
type State = (typeof State)[keyof typeof State];

function fail(code: number, reason: string): never {
  throw new H3Error(code, reason);
}

/**
 * The frames allowed on each kind of stream (RFC 9114 Table 1, §7.2.8); unknown types are allowed
 * anywhere. `first` and `seenSettings` matter on the control stream only.
 */
export function checkFrameAllowed(
  kind: H3StreamKind,
  type: number,
  first = false,
  seenSettings = false,
): void {
  if (HTTP2_FRAME_TYPES.has(type))
    fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
  if (kind === 'control') {
    // §6.2.1: the first frame of a control stream is SETTINGS; §7.2.4: and only the first.
    if (first && type !== H3FrameType.SETTINGS)
      fail(H3ErrorCode.H3_MISSING_SETTINGS, 'control stream without SETTINGS first');
    if (type === H3FrameType.SETTINGS && seenSettings)
      fail(H3ErrorCode.H3_FRAME_UNEXPECTED, 'second SETTINGS frame');
    if (type === H3FrameType.DATA || type === H3FrameType.HEADERS || type === H3FrameType.PUSH_PROMISE)
      fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `frame type 0x${type.toString(16)} on the control stream`);
    return;
  }
  if (
    type === H3FrameType.SETTINGS ||
    type === H3FrameType.CANCEL_PUSH ||
    type === H3FrameType.GOAWAY ||
    type === H3FrameType.MAX_PUSH_ID ||
    (kind === 'push' && type === H3FrameType.PUSH_PROMISE)
  )
    fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `frame type 0x${type.toString(16)} on a ${kind} stream`);
}

/** Incremental reader of one varint split across chunks. */
class PartialVarint {
  private readonly bytes = new Uint8Array(8);
  private have = 0;

  /** True while a varint has been started but not finished. */
  get started(): boolean {
    return this.have > 0;
  }

  /**
   * Reads from `chunk[pos, end)`: returns the value when complete (advancing `this.pos`), or -1
   * with all available bytes consumed.
   */
  read(chunk: Uint8Array, pos: number, end: number): number {
    if (this.have === 0) {
      const n = 1 << (chunk[pos] >> 6);
      if (end - pos >= n) {
        this.pos = pos + n;
        return varintAt(chunk, pos);
      }
    }
    const need = this.have === 0 ? 1 << (chunk[pos] >> 6) : 1 << (this.bytes[0] >> 6);
    while (this.have < need && pos < end) this.bytes[this.have++] = chunk[pos++];
    this.pos = pos;
    if (this.have < need) return -1;
    this.have = 0;
    return varintAt(this.bytes, 0);
  }

  /** Position after the last `read`. */
  pos = 0;
}

/** Incremental HTTP/3 frame parser for one stream (RFC 9114 §7.1). */
export class H3FrameParser {
  private state: State = State.Type;
  private readonly varint = new PartialVarint();
  private frameType = 0;
  private remaining = 0;
  private buffer: Uint8Array | null = null;
  private filled = 0;
  private framesSeen = 0;
  private seenSettings = false;
  private readonly maxFrameLength: number;

  constructor(
    readonly kind: H3StreamKind,
    options: H3FrameParserOptions = {},
  ) {
    this.maxFrameLength = options.maxFrameLength ?? 64 * 1024;
  }

  /** Parses the next bytes of the stream; returns the frames (and DATA pieces) they complete. */
  feed(chunk: Uint8Array): H3Frame[] {
    const out: H3Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      switch (this.state) {
        case State.Type:
        case State.Length: {
          const v = this.varint.read(chunk, pos, end);
          pos = this.varint.pos;
          if (v < 0) break;
          if (this.state === State.Type) {
            checkFrameAllowed(this.kind, v, this.framesSeen === 0, this.seenSettings);
            this.frameType = v;
            this.framesSeen++;
            this.state = State.Length;
          } else this.onLength(v, out);
          break;
        }
        case State.Data: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          out.push({ type: 'data', data: chunk.subarray(pos, pos + n), remaining: this.remaining });
          pos += n;
          if (this.remaining === 0) this.state = State.Type;
          break;
        }
        case State.Skip: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = State.Type;
          break;
        }
        case State.Buffer: {
          const length = this.remaining;
          if (this.buffer === null && end - pos >= length) {
            out.push(this.parsePayload(chunk.subarray(pos, pos + length)));
            pos += length;
            this.state = State.Type;
            break;
          }
          if (this.buffer === null) {
            this.buffer = new Uint8Array(length);
            this.filled = 0;
          }
          const n = Math.min(length - this.filled, end - pos);
          this.buffer.set(chunk.subarray(pos, pos + n), this.filled);
          this.filled += n;
          pos += n;
          if (this.filled === length) {
            const payload = this.buffer;
            this.buffer = null;
            out.push(this.parsePayload(payload));
            this.state = State.Type;
          }
          break;
        }
      }
    }
    return out;
  }

  /**
   * The stream ended cleanly (FIN): a truncated last frame is H3_FRAME_ERROR (RFC 9114 §7.1).
   * (Closing a control stream at all is H3_CLOSED_CRITICAL_STREAM, §6.2.1: the caller's check.)
   */
  end(): void {
    if (this.state !== State.Type || this.varint.started)
      fail(H3ErrorCode.H3_FRAME_ERROR, 'stream ended inside a frame');
  }

  /** True between frames: nothing of a frame is pending. */
  get atFrameBoundary(): boolean {
    return this.state === State.Type && !this.varint.started;
  }

  private onLength(length: number, out: H3Frame[]): void {
    const type = this.frameType;
    this.remaining = length;
    switch (type) {
      case H3FrameType.DATA:
        if (length === 0) {
          out.push({ type: 'data', data: new Uint8Array(0), remaining: 0 });
          this.state = State.Type;
        } else this.state = State.Data;
        return;
      case H3FrameType.HEADERS:
      case H3FrameType.PUSH_PROMISE:
      case H3FrameType.SETTINGS:
        if (length > this.maxFrameLength)
          fail(
            H3ErrorCode.H3_EXCESSIVE_LOAD,
            `frame of ${length} bytes over the ${this.maxFrameLength}-byte limit`,
          );
        break;
      case H3FrameType.CANCEL_PUSH:
      case H3FrameType.GOAWAY:
      case H3FrameType.MAX_PUSH_ID:
        // §7.1: the payload is exactly one varint.
        if (length === 0 || length > 8)
          fail(H3ErrorCode.H3_FRAME_ERROR, `frame 0x${type.toString(16)} of ${length} bytes`);
        break;
      default:
        // §7.2.8, §9: unknown and reserved frame types are ignored.
        out.push({ type: 'unknown', frameType: type, length });
        this.state = length === 0 ? State.Type : State.Skip;
        return;
    }
    if (length === 0) {
      out.push(this.parsePayload(new Uint8Array(0)));
      this.state = State.Type;
    } else this.state = State.Buffer;
  }

  private parsePayload(p: Uint8Array): H3Frame {
    switch (this.frameType) {
      case H3FrameType.HEADERS:
        return { type: 'headers', fieldSection: p };
      case H3FrameType.SETTINGS:
        this.seenSettings = true;
        return { type: 'settings', settings: decodeSettings(p) };
      case H3FrameType.PUSH_PROMISE: {
        const n = varintSpan(p, 0);
        return { type: 'push_promise', pushId: varintAt(p, 0), fieldSection: p.subarray(n) };
      }
      default: {
        // CANCEL_PUSH, GOAWAY, MAX_PUSH_ID: one varint filling the payload exactly (§7.1, §10.8).
        if (varintSpan(p, 0) !== p.length)
          fail(H3ErrorCode.H3_FRAME_ERROR, 'frame payload is not one varint');
        const v = varintAt(p, 0);
        if (this.frameType === H3FrameType.GOAWAY) return { type: 'goaway', id: v };
        if (this.frameType === H3FrameType.CANCEL_PUSH) return { type: 'cancel_push', pushId: v };
        return { type: 'max_push_id', pushId: v };
      }
    }
  }
}

/** Length of the varint at `pos` in `p`, which must hold all of it (else H3_FRAME_ERROR, §7.1). */
function varintSpan(p: Uint8Array, pos: number): number {
  if (pos >= p.length) fail(H3ErrorCode.H3_FRAME_ERROR, 'frame payload ends early');
  const n = 1 << (p[pos] >> 6);
  if (p.length - pos < n) fail(H3ErrorCode.H3_FRAME_ERROR, 'frame payload ends inside a varint');
  return n;
}

/**
 * Decodes a SETTINGS payload (RFC 9114 §7.2.4) into identifier -> value. Unknown and reserved
 * identifiers are kept (and have no meaning); a repeated identifier or an HTTP/2 setting is
 * H3_SETTINGS_ERROR; a truncated pair is H3_FRAME_ERROR.
 */
export function decodeSettings(p: Uint8Array): Map<number, number> {
  const settings = new Map<number, number>();
  let pos = 0;
  while (pos < p.length) {
    const idLength = varintSpan(p, pos);
    const id = varintAt(p, pos);
    pos += idLength;
    const valueLength = varintSpan(p, pos);
    const value = varintAt(p, pos);
    pos += valueLength;
    if (HTTP2_SETTINGS.has(id)) fail(H3ErrorCode.H3_SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)}`);
    if (settings.has(id)) fail(H3ErrorCode.H3_SETTINGS_ERROR, `setting 0x${id.toString(16)} repeated`);
    settings.set(id, value);
  }
  return settings;
}

// --- encoders --------------------------------------------------------------------------

/** Bytes of a frame header (type and length) for `type` and `payloadLength`. */
export function frameHeaderLength(type: number, payloadLength: number): number {
  return varintLength(type) + varintLength(payloadLength);
}

/** Writes a frame header: Type (i), Length (i) (RFC 9114 §7.1). */
export function writeFrameHeader(w: Writer, type: number, payloadLength: number): void {
  w.varint(type).varint(payloadLength);
}

/** Writes a DATA frame header (RFC 9114 §7.2.1); the caller writes or sends the payload after it. */
export function writeDataFrameHeader(w: Writer, payloadLength: number): void {
  w.varint(H3FrameType.DATA).varint(payloadLength);
}

/** Writes a HEADERS frame carrying an encoded field section (RFC 9114 §7.2.2). */
export function writeHeadersFrame(w: Writer, fieldSection: Uint8Array): void {
  w.varint(H3FrameType.HEADERS).varint(fieldSection.length).bytes(fieldSection);
}

/** Writes a PUSH_PROMISE frame (RFC 9114 §7.2.5). */
export function writePushPromiseFrame(w: Writer, pushId: number, fieldSection: Uint8Array): void {
  w.varint(H3FrameType.PUSH_PROMISE).varint(varintLength(pushId) + fieldSection.length);
  w.varint(pushId).bytes(fieldSection);
}

function writeOneVarintFrame(w: Writer, type: number, v: number): void {
  w.varint(type).varint(varintLength(v)).varint(v);
}

/** Writes a CANCEL_PUSH frame (RFC 9114 §7.2.3). */
export function writeCancelPushFrame(w: Writer, pushId: number): void {
  writeOneVarintFrame(w, H3FrameType.CANCEL_PUSH, pushId);
}

/** Writes a GOAWAY frame with a stream ID (from a server) or push ID (from a client) (RFC 9114 §7.2.6). */
export function writeGoawayFrame(w: Writer, id: number): void {
  writeOneVarintFrame(w, H3FrameType.GOAWAY, id);
}

/** Writes a MAX_PUSH_ID frame (RFC 9114 §7.2.7). */
export function writeMaxPushIdFrame(w: Writer, pushId: number): void {
  writeOneVarintFrame(w, H3FrameType.MAX_PUSH_ID, pushId);
}

function settingsPayloadLength(settings: Iterable<readonly [number, number]>): number {
  const seen = new Set<number>();
  let n = 0;
  for (const [id, value] of settings) {
    // Sending these is forbidden (§7.2.4, §7.2.4.1): a caller bug.
    if (HTTP2_SETTINGS.has(id)) throw new RangeError(`HTTP/2 setting 0x${id.toString(16)} must not be sent`);
    if (seen.has(id)) throw new RangeError(`setting 0x${id.toString(16)} given twice`);
    seen.add(id);
    n += varintLength(id) + varintLength(value);
  }
  return n;
}

/** Bytes of a SETTINGS frame carrying `settings`. */
export function settingsFrameLength(settings: Iterable<readonly [number, number]>): number {
  const n = settingsPayloadLength(settings);
  return frameHeaderLength(H3FrameType.SETTINGS, n) + n;
}

/** Writes a SETTINGS frame (RFC 9114 §7.2.4), settings in the order given. */
export function writeSettingsFrame(w: Writer, settings: Iterable<readonly [number, number]>): void {
  w.varint(H3FrameType.SETTINGS).varint(settingsPayloadLength(settings));
  for (const [id, value] of settings) w.varint(id).varint(value);
}

/** Writes a unidirectional stream header: Stream Type (i) (RFC 9114 §6.2). */
export function writeStreamType(w: Writer, streamType: number): void {
  w.varint(streamType);
}

/** Writes a push stream header: type 0x01 and Push ID (RFC 9114 §6.2.2). */
export function writePushStreamHeader(w: Writer, pushId: number): void {
  w.varint(H3StreamType.PUSH).varint(pushId);
}

/** What `StreamHeaderParser` read: the stream type, the push ID of a push stream, and what follows. */
export interface UniStreamHeader {
  streamType: number;
  /** The Push ID of a push stream (RFC 9114 §6.2.2); -1 for other types. */
  pushId: number;
  /** The rest of the chunk that completed the header: the stream's first content bytes. */
  rest: Uint8Array;
}

/**
 * Reads the header of an incoming unidirectional stream (RFC 9114 §6.2): its type, and the Push
 * ID for a push stream. Unknown and reserved types are returned like the others: the caller
 * must then discard the stream (and never treat it as a connection error, §6.2).
 */
export class StreamHeaderParser {
  private readonly varint = new PartialVarint();
  private streamType = -1;
  private done = false;

  /** Feeds stream bytes; returns the header once complete, else null (all bytes consumed). */
  feed(chunk: Uint8Array): UniStreamHeader | null {
    if (this.done) throw new RangeError('stream header already parsed');
    let pos = 0;
    while (pos < chunk.length) {
      const v = this.varint.read(chunk, pos, chunk.length);
      pos = this.varint.pos;
      if (v < 0) return null;
      if (this.streamType < 0) {
        this.streamType = v;
        if (v !== H3StreamType.PUSH) return this.finish(-1, chunk.subarray(pos));
      } else return this.finish(v, chunk.subarray(pos));
    }
    return null;
  }

  private finish(pushId: number, rest: Uint8Array): UniStreamHeader {
    this.done = true;
    return { streamType: this.streamType, pushId, rest };
  }
}
