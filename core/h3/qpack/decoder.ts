/**
 * The QPACK decoder (RFC 9204 §2.2): applies encoder-stream instructions to its dynamic table
 * (§4.3), decodes encoded field sections (§4.5), parks sections whose Required Insert Count is
 * not reached yet (blocked streams, §2.2.1) and produces the decoder-stream instructions (§4.4).
 *
 * Memory is bounded by our own settings: the table by maxTableCapacity (an encoder-stream string
 * that cannot fit is rejected as soon as its length is read, before it is buffered), blocked
 * sections by maxBlockedStreams, and each decoded field section by maxFieldSectionSize.
 * Encoder-stream bytes are parsed incrementally: an instruction split across calls waits in a
 * buffer that receives each byte once.
 */
import { Writer } from '../../wire/buffer.ts';
import { H3Error, H3ErrorCode } from '../errors.ts';
import {
  DynamicTable,
  ENTRY_OVERHEAD,
  TableEntry,
  decodeRequiredInsertCount,
  maxEntries,
} from './dynamic-table.ts';
import { Cursor, INCOMPLETE, readPrefixedInt, readString, readStringHeader } from './primitives.ts';
import { STATIC_TABLE, STATIC_TABLE_SIZE } from './static-table.ts';
import {
  writeInsertCountIncrement,
  writeSectionAcknowledgment,
  writeStreamCancellation,
} from './instructions.ts';

/** A field line: name and value. */
export type FieldLine = [name: string, value: string];

/** The result of `decodeFieldSection`. */
export type DecodeResult = { headers: FieldLine[] } | { blocked: true };

/** A blocked field section that became decodable, or the stream-level error decoding it raised. */
export type UnblockedSection =
  { streamId: number; headers: FieldLine[] } | { streamId: number; error: H3Error };

/** Settings the decoder enforces: the values we advertise in our SETTINGS. */
export interface QpackDecoderOptions {
  /** Our SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5). */
  maxTableCapacity: number;
  /** Our SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5). */
  maxBlockedStreams: number;
  /** Our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2); default 64 KiB. */
  maxFieldSectionSize?: number;
}

const DECOMPRESSION_FAILED = H3ErrorCode.QPACK_DECOMPRESSION_FAILED;
const ENCODER_STREAM_ERROR = H3ErrorCode.QPACK_ENCODER_STREAM_ERROR;

interface BlockedSection {
  readonly requiredInsertCount: number;
  readonly bytes: Uint8Array; // a copy, starting at the Base byte
}

/** A QPACK decoder for one HTTP/3 connection. */
export class QpackDecoder {
  /** The dynamic table as the peer's encoder stream built it. */
  readonly table = new DynamicTable();
  readonly maxTableCapacity: number;
  readonly maxBlockedStreams: number;
  readonly maxFieldSectionSize: number;
  private readonly maxEntryCount: number;
  /** Known Received Count as the encoder will see it after our decoder-stream output (§2.1.4). */
  private knownReceivedCount = 0;
  private readonly blocked = new Map<number, BlockedSection[]>();
  private minBlockedRic = Infinity;
  private pending = new Uint8Array(0); // unparsed encoder-stream bytes
  private pendingLength = 0;
  private out = new Uint8Array(64); // decoder-stream bytes not yet taken
  private outLength = 0;
  private readonly cur = new Cursor();

  constructor(options: QpackDecoderOptions) {
    this.maxTableCapacity = options.maxTableCapacity;
    this.maxBlockedStreams = options.maxBlockedStreams;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? 64 * 1024;
    this.maxEntryCount = maxEntries(this.maxTableCapacity);
  }

  /** Number of streams with a field section waiting for inserts. */
  get blockedStreams(): number {
    return this.blocked.size;
  }

  /**
   * Decodes one encoded field section received on `streamId` (a HEADERS or PUSH_PROMISE payload).
   * Returns `{ blocked: true }` when it needs inserts not received yet: the bytes are copied and
   * decoded later by `onEncoderStream`. Raises `H3Error`: QPACK_DECOMPRESSION_FAILED, or a
   * stream-scoped error for a section over our limits (a Stream Cancellation is then queued).
   */
  decodeFieldSection(streamId: number, bytes: Uint8Array): DecodeResult {
    const cur = this.cur;
    cur.pos = 0;
    const encoded = readPrefixedInt(bytes, cur, bytes.length, 8, DECOMPRESSION_FAILED);
    if (encoded === INCOMPLETE) throw truncated();
    const ric = decodeRequiredInsertCount(encoded, this.maxEntryCount, this.table.insertCount);
    const queue = this.blocked.get(streamId);
    if (ric > this.table.insertCount || queue !== undefined) {
      // RFC 9204 §2.2.1: blocked. Sections on one stream are decoded in order.
      if (queue === undefined && this.blocked.size >= this.maxBlockedStreams)
        throw new H3Error(DECOMPRESSION_FAILED, `more than ${this.maxBlockedStreams} blocked streams`); // §2.1.2
      const section = { requiredInsertCount: ric, bytes: bytes.slice(cur.pos) };
      if (queue === undefined) this.blocked.set(streamId, [section]);
      else queue.push(section);
      if (queue === undefined && ric < this.minBlockedRic) this.minBlockedRic = ric;
      return { blocked: true };
    }
    return { headers: this.decodeLines(streamId, bytes, cur.pos, ric) };
  }

  /**
   * Processes encoder-stream bytes (RFC 9204 §4.3); an instruction may be split across calls.
   * Returns the blocked sections the new inserts made decodable, in order. Raises `H3Error`
   * QPACK_ENCODER_STREAM_ERROR for a bad instruction.
   */
  onEncoderStream(bytes: Uint8Array): UnblockedSection[] {
    const unblocked: UnblockedSection[] = [];
    if (this.pendingLength === 0) {
      const used = this.parseInstructions(bytes, bytes.length, unblocked);
      if (used < bytes.length) this.keep(bytes.subarray(used), 0);
    } else {
      this.keep(bytes, this.pendingLength);
      const used = this.parseInstructions(this.pending, this.pendingLength, unblocked);
      if (used > 0) {
        this.pending.copyWithin(0, used, this.pendingLength);
        this.pendingLength -= used;
      }
    }
    return unblocked;
  }

  /**
   * Abandons `streamId` (reset, or reading stopped): drops its blocked sections and queues a
   * Stream Cancellation (RFC 9204 §2.2.2.2, §4.4.2).
   */
  cancelStream(streamId: number): void {
    if (this.blocked.delete(streamId)) this.recomputeMinBlocked();
    // §2.2.2.2: with a maximum capacity of 0 the encoder has no references to release.
    if (this.maxTableCapacity > 0) this.emit((w) => writeStreamCancellation(w, streamId));
  }

  /**
   * Takes the decoder-stream bytes to send (RFC 9204 §4.4): queued Section Acknowledgments and
   * Stream Cancellations, then an Insert Count Increment for inserts not yet acknowledged.
   * Empty when there is nothing to send.
   */
  takeDecoderStream(): Uint8Array {
    const increment = this.table.insertCount - this.knownReceivedCount;
    if (increment > 0) {
      this.emit((w) => writeInsertCountIncrement(w, increment));
      this.knownReceivedCount = this.table.insertCount;
    }
    const data = this.out.slice(0, this.outLength);
    this.outLength = 0;
    return data;
  }

  // --- encoder stream --------------------------------------------------------------------

  private keep(bytes: Uint8Array, at: number): void {
    const need = at + bytes.length;
    if (this.pending.length < need) {
      const grown = new Uint8Array(Math.max(need, this.pending.length * 2, 64));
      grown.set(this.pending.subarray(0, at));
      this.pending = grown;
    }
    this.pending.set(bytes, at);
    this.pendingLength = need;
  }

  /** Parses whole instructions from `buf[0, end)`; returns the bytes used. */
  private parseInstructions(buf: Uint8Array, end: number, unblocked: UnblockedSection[]): number {
    let pos = 0;
    while (pos < end) {
      const next = this.parseInstruction(buf, pos, end);
      if (next === INCOMPLETE) break;
      pos = next;
      if (this.table.insertCount >= this.minBlockedRic) this.unblock(unblocked);
    }
    return pos;
  }

  /** One encoder instruction at `pos`: returns the position after it, or INCOMPLETE. */
  private parseInstruction(buf: Uint8Array, pos: number, end: number): number {
    const cur = this.cur;
    const table = this.table;
    cur.pos = pos;
    const first = buf[pos];
    if (first & 0x80) {
      // Insert with Name Reference (RFC 9204 §4.3.2).
      const index = readPrefixedInt(buf, cur, end, 6, ENCODER_STREAM_ERROR);
      if (index === INCOMPLETE) return INCOMPLETE;
      let name: string;
      let nameLength: number;
      if (first & 0x40) {
        // §3.1: an invalid static index on the encoder stream is QPACK_ENCODER_STREAM_ERROR.
        if (index >= STATIC_TABLE_SIZE) throw encoderStreamError(`static index ${index} out of range`);
        name = STATIC_TABLE[index][0];
        nameLength = name.length; // static names are ASCII
      } else {
        const entry = this.relativeEntry(index);
        name = entry.name;
        nameLength = entry.nameLength;
      }
      const valueLength = readStringHeader(buf, cur, end, 8, ENCODER_STREAM_ERROR);
      if (valueLength === INCOMPLETE) return INCOMPLETE;
      const valueHuffman = cur.huffman;
      this.checkFits(nameLength, valueLength, valueHuffman);
      const valueStart = cur.pos;
      if (end - valueStart < valueLength) return INCOMPLETE;
      const value = readString(
        buf,
        valueStart,
        valueLength,
        valueHuffman,
        cur,
        ENCODER_STREAM_ERROR,
        Infinity,
      );
      this.insert(new TableEntry(name, value, nameLength, cur.byteLength));
      return valueStart + valueLength;
    }
    if (first & 0x40) {
      // Insert with Literal Name (RFC 9204 §4.3.3).
      const nameLength = readStringHeader(buf, cur, end, 6, ENCODER_STREAM_ERROR);
      if (nameLength === INCOMPLETE) return INCOMPLETE;
      const nameHuffman = cur.huffman;
      this.checkFits(nameLength, 0, nameHuffman);
      const nameStart = cur.pos;
      if (end - nameStart < nameLength) return INCOMPLETE;
      cur.pos = nameStart + nameLength;
      const valueLength = readStringHeader(buf, cur, end, 8, ENCODER_STREAM_ERROR);
      if (valueLength === INCOMPLETE) return INCOMPLETE;
      const valueHuffman = cur.huffman;
      this.checkFits(minDecoded(nameLength, nameHuffman), valueLength, valueHuffman);
      const valueStart = cur.pos;
      if (end - valueStart < valueLength) return INCOMPLETE;
      const name = readString(buf, nameStart, nameLength, nameHuffman, cur, ENCODER_STREAM_ERROR, Infinity);
      const nameBytes = cur.byteLength;
      const value = readString(
        buf,
        valueStart,
        valueLength,
        valueHuffman,
        cur,
        ENCODER_STREAM_ERROR,
        Infinity,
      );
      this.insert(new TableEntry(name, value, nameBytes, cur.byteLength));
      return valueStart + valueLength;
    }
    const value = readPrefixedInt(buf, cur, end, 5, ENCODER_STREAM_ERROR);
    if (value === INCOMPLETE) return INCOMPLETE;
    if (first & 0x20) {
      // Set Dynamic Table Capacity (RFC 9204 §4.3.1).
      if (value > this.maxTableCapacity)
        throw encoderStreamError(`capacity ${value} above our maximum ${this.maxTableCapacity}`);
      table.capacity = value;
      while (table.size > value) table.evictOldest(); // §3.2.2
    } else {
      // Duplicate (RFC 9204 §4.3.4).
      const entry = this.relativeEntry(value);
      this.insert(
        new TableEntry(
          entry.name,
          entry.value,
          entry.nameLength,
          entry.size - entry.nameLength - ENTRY_OVERHEAD,
        ),
      );
    }
    return cur.pos;
  }

  /**
   * Rejects an insert whose strings cannot fit the table, from their encoded lengths alone, so a
   * huge string is refused before it is buffered (RFC 9204 §3.2.2, §7.3).
   */
  private checkFits(knownBytes: number, encodedLength: number, huffman: boolean): void {
    const least = knownBytes + minDecoded(encodedLength, huffman) + ENTRY_OVERHEAD;
    if (least > this.table.capacity)
      throw encoderStreamError(`entry of at least ${least} bytes exceeds capacity ${this.table.capacity}`);
  }

  /** The entry at a relative index of the encoder stream (RFC 9204 §3.2.5). */
  private relativeEntry(relative: number): TableEntry {
    const abs = this.table.insertCount - 1 - relative;
    const entry = abs >= 0 ? this.table.get(abs) : undefined;
    // §2.2.3: a reference to an evicted (or never inserted) entry.
    if (entry === undefined) throw encoderStreamError(`relative index ${relative} names no entry`);
    return entry;
  }

  private insert(entry: TableEntry): void {
    const table = this.table;
    // RFC 9204 §3.2.2: an entry larger than the capacity is an error; otherwise evict to fit.
    if (entry.size > table.capacity)
      throw encoderStreamError(`entry of ${entry.size} bytes exceeds capacity ${table.capacity}`);
    while (table.size + entry.size > table.capacity) table.evictOldest();
    table.append(entry);
  }

  // --- field sections --------------------------------------------------------------------

  private unblock(unblocked: UnblockedSection[]): void {
    const inserted = this.table.insertCount;
    for (const [streamId, queue] of this.blocked) {
      while (queue.length > 0 && queue[0].requiredInsertCount <= inserted) {
        const section = queue.shift() as BlockedSection;
        try {
          const headers = this.decodeLines(streamId, section.bytes, 0, section.requiredInsertCount);
          unblocked.push({ streamId, headers });
        } catch (e) {
          if (!(e instanceof H3Error) || e.scope !== 'stream') throw e;
          unblocked.push({ streamId, error: e });
          queue.length = 0;
        }
      }
      if (queue.length === 0) this.blocked.delete(streamId);
    }
    this.recomputeMinBlocked();
  }

  private recomputeMinBlocked(): void {
    let min = Infinity;
    for (const queue of this.blocked.values())
      if (queue[0].requiredInsertCount < min) min = queue[0].requiredInsertCount;
    this.minBlockedRic = min;
  }

  /** Decodes the field lines after the Required Insert Count (RFC 9204 §4.5.1.2-§4.5.6). */
  private decodeLines(streamId: number, buf: Uint8Array, pos: number, ric: number): FieldLine[] {
    try {
      const headers = this.decodeLinesUnchecked(buf, pos, ric);
      if (ric > 0) {
        // §2.2.2.1 and §4.4.1: acknowledge a section that referenced the dynamic table.
        this.emit((w) => writeSectionAcknowledgment(w, streamId));
        if (ric > this.knownReceivedCount) this.knownReceivedCount = ric; // §2.1.4
      }
      return headers;
    } catch (e) {
      if (e instanceof H3Error && e.scope === 'stream') this.cancelStream(streamId);
      throw e;
    }
  }

  private decodeLinesUnchecked(buf: Uint8Array, pos: number, ric: number): FieldLine[] {
    const cur = this.cur;
    const end = buf.length;
    cur.pos = pos;
    if (pos >= end) throw truncated();
    const negative = (buf[pos] & 0x80) !== 0;
    const delta = readPrefixedInt(buf, cur, end, 7, DECOMPRESSION_FAILED);
    if (delta === INCOMPLETE) throw truncated();
    // §4.5.1.2: a Sign of 1 with Delta Base >= Required Insert Count would make Base negative.
    if (negative && ric <= delta)
      throw decompressionFailed(`Delta Base ${delta} with Required Insert Count ${ric}`);
    const base = negative ? ric - delta - 1 : ric + delta;
    const headers: FieldLine[] = [];
    let budget = this.maxFieldSectionSize;
    while (cur.pos < end) {
      const first = buf[cur.pos];
      let name: string;
      let value: string;
      if (first & 0x80) {
        // Indexed Field Line (§4.5.2).
        const index = readPrefixedInt(buf, cur, end, 6, DECOMPRESSION_FAILED);
        if (index === INCOMPLETE) throw truncated();
        if (first & 0x40) {
          const e = staticEntry(index);
          budget -= e[0].length + e[1].length + ENTRY_OVERHEAD;
          name = e[0];
          value = e[1];
        } else {
          const e = this.sectionEntry(base - 1 - index, ric);
          budget -= e.size;
          name = e.name;
          value = e.value;
        }
        if (budget < 0) throw tooLarge(this.maxFieldSectionSize);
        headers.push([name, value]);
        continue;
      }
      if ((first & 0xf0) === 0x10) {
        // Indexed Field Line with Post-Base Index (§4.5.3).
        const index = readPrefixedInt(buf, cur, end, 4, DECOMPRESSION_FAILED);
        if (index === INCOMPLETE) throw truncated();
        const e = this.sectionEntry(base + index, ric);
        budget -= e.size;
        if (budget < 0) throw tooLarge(this.maxFieldSectionSize);
        headers.push([e.name, e.value]);
        continue;
      }
      let nameBytes: number;
      if (first & 0x40) {
        // Literal Field Line with Name Reference (§4.5.4).
        const index = readPrefixedInt(buf, cur, end, 4, DECOMPRESSION_FAILED);
        if (index === INCOMPLETE) throw truncated();
        if (first & 0x10) {
          name = staticEntry(index)[0];
          nameBytes = name.length;
        } else {
          const e = this.sectionEntry(base - 1 - index, ric);
          name = e.name;
          nameBytes = e.nameLength;
        }
      } else if (first & 0x20) {
        // Literal Field Line with Literal Name (§4.5.6).
        const length = readStringHeader(buf, cur, end, 4, DECOMPRESSION_FAILED);
        if (length === INCOMPLETE || end - cur.pos < length) throw truncated();
        if (minDecoded(length, cur.huffman) > budget) throw tooLarge(this.maxFieldSectionSize);
        name = readString(buf, cur.pos, length, cur.huffman, cur, DECOMPRESSION_FAILED, Infinity);
        nameBytes = cur.byteLength;
        cur.pos += length;
      } else {
        // Literal Field Line with Post-Base Name Reference (§4.5.5).
        const index = readPrefixedInt(buf, cur, end, 3, DECOMPRESSION_FAILED);
        if (index === INCOMPLETE) throw truncated();
        const e = this.sectionEntry(base + index, ric);
        name = e.name;
        nameBytes = e.nameLength;
      }
      budget -= nameBytes + ENTRY_OVERHEAD;
      if (budget < 0) throw tooLarge(this.maxFieldSectionSize);
      const length = readStringHeader(buf, cur, end, 8, DECOMPRESSION_FAILED);
      if (length === INCOMPLETE || end - cur.pos < length) throw truncated();
      if (minDecoded(length, cur.huffman) > budget) throw tooLarge(this.maxFieldSectionSize);
      value = readString(buf, cur.pos, length, cur.huffman, cur, DECOMPRESSION_FAILED, Infinity);
      budget -= cur.byteLength;
      if (budget < 0) throw tooLarge(this.maxFieldSectionSize);
      cur.pos += length;
      headers.push([name, value]);
    }
    return headers;
  }

  /** A dynamic entry referenced from a field section (RFC 9204 §2.2.3). */
  private sectionEntry(abs: number, ric: number): TableEntry {
    if (abs < 0 || abs >= ric)
      throw decompressionFailed(`reference to absolute index ${abs} outside [0, ${ric})`);
    const e = this.table.get(abs);
    if (e === undefined) throw decompressionFailed(`reference to evicted entry ${abs}`);
    return e;
  }

  private emit(write: (w: Writer) => void): void {
    if (this.out.length - this.outLength < 16) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out.subarray(0, this.outLength));
      this.out = grown;
    }
    const w = new Writer(this.out, this.outLength);
    write(w);
    this.outLength = w.offset;
  }
}

/** The fewest bytes `encodedLength` bytes can decode to (the longest Huffman code is 30 bits). */
function minDecoded(encodedLength: number, huffman: boolean): number {
  return huffman ? Math.ceil((encodedLength * 8 - 7) / 30) : encodedLength;
}

function staticEntry(index: number): readonly [string, string] {
  // RFC 9204 §3.1: an invalid static index in a field line is QPACK_DECOMPRESSION_FAILED.
  if (index >= STATIC_TABLE_SIZE) throw decompressionFailed(`static index ${index} out of range`);
  return STATIC_TABLE[index];
}

function truncated(): H3Error {
  return decompressionFailed('truncated field section');
}

function decompressionFailed(reason: string): H3Error {
  return new H3Error(DECOMPRESSION_FAILED, reason);
}

function encoderStreamError(reason: string): H3Error {
  return new H3Error(ENCODER_STREAM_ERROR, reason);
}

function tooLarge(limit: number): H3Error {
  // RFC 9114 §4.2.2: a field section over our limit; the stream can be refused, not the connection.
  return new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `field section larger than ${limit} bytes`, 'stream');
}
