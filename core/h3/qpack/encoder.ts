/**
 * The QPACK encoder (RFC 9204 §2.1): a single-pass encoder in the manner of Appendix C.
 *
 * Policy, kept simple and safe:
 * - Static table first (exact match, then name); the dynamic table only when the peer allows one.
 * - A field line the `shouldIndex` policy accepts is inserted when it fits without evicting
 *   anything that is not evictable (acknowledged and unreferenced, §2.1.1), then referenced.
 * - Entries in the draining region (the oldest entries that would have to go to keep a quarter of
 *   the capacity free, §2.1.1.1) are not referenced; an exact match there is re-sent with a
 *   Duplicate instruction instead.
 * - Unacknowledged entries are referenced only while the stream is, or may become, one of at
 *   most maxBlockedStreams potentially blocked streams (§2.1.2).
 * - Every entry a field section references is counted until the decoder acknowledges or cancels
 *   the section (§4.4.1, §4.4.2), so it is never evicted under a pending reference.
 * - Huffman coding when it is shorter (configurable).
 */
import { Writer } from '../../wire/buffer.ts';
import { H3Error, H3ErrorCode } from '../errors.ts';
import {
  DynamicTable,
  ENTRY_OVERHEAD,
  TableEntry,
  encodeRequiredInsertCount,
  maxEntries,
} from './dynamic-table.ts';
import {
  writeDuplicate,
  writeFieldSectionPrefix,
  writeIndexedFieldLine,
  writeIndexedFieldLinePostBase,
  writeInsertWithLiteralName,
  writeInsertWithNameReference,
  writeLiteralWithLiteralName,
  writeLiteralWithNameReference,
  writeLiteralWithPostBaseNameReference,
  writeSetDynamicTableCapacity,
} from './instructions.ts';
import { Cursor, INCOMPLETE, maxStringLiteralLength, readPrefixedInt, utf8Length } from './primitives.ts';
import type { HuffmanMode } from './primitives.ts';
import { staticFind, staticFindName } from './static-table.ts';
import type { FieldLine } from './decoder.ts';

/** Configuration of a QpackEncoder: the peer's settings and our policy. */
export interface QpackEncoderOptions {
  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5); default 0. */
  maxTableCapacity?: number;
  /** The peer's SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5); default 0. */
  maxBlockedStreams?: number;
  /** The capacity we use, at most maxTableCapacity (§3.2.3); default min(maxTableCapacity, 4096). */
  tableCapacity?: number;
  /** Huffman coding of string literals; default `auto` (when shorter). */
  huffman?: HuffmanMode;
  /** Whether a field line is worth inserting into the dynamic table; default `defaultShouldIndex`. */
  shouldIndex?: (name: string, value: string) => boolean;
  /** Field lines never to put in the dynamic table, sent with the N bit (§4.5.4, §7.1.3). */
  neverIndex?: (name: string, value: string) => boolean;
}

/** The result of `QpackEncoder.encodeFieldSection`. */
export interface EncodedFieldSection {
  /** The encoded field section: the payload of a HEADERS or PUSH_PROMISE frame. */
  fieldSection: Uint8Array;
  /** Encoder-stream instructions to send before (or with) the field section; may be empty. */
  encoderStream: Uint8Array;
}

// Fields whose values rarely repeat: inserting them would only churn the table.
const VOLATILE = new Set([
  ':path',
  'age',
  'content-length',
  'content-range',
  'date',
  'etag',
  'expires',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'range',
]);

/** Default insertion policy: fields whose values tend to repeat (not dates, lengths, paths...). */
export function defaultShouldIndex(name: string, _value: string): boolean {
  return !VOLATILE.has(name);
}

/** Default never-index policy: credentials and short cookies (RFC 9204 §7.1.3, RFC 7541 §7.1.3). */
export function defaultNeverIndex(name: string, value: string): boolean {
  return (
    name === 'authorization' ||
    name === 'proxy-authorization' ||
    name === 'set-cookie' ||
    (name === 'cookie' && value.length < 20)
  );
}

/**
 * The size of a field section as RFC 9114 §4.2.2 counts it (names and values in bytes, plus 32
 * per field line): what SETTINGS_MAX_FIELD_SECTION_SIZE limits.
 */
export function fieldSectionSize(headers: readonly FieldLine[]): number {
  let n = 0;
  for (const [name, value] of headers) n += utf8Length(name) + utf8Length(value) + ENTRY_OVERHEAD;
  return n;
}

interface Section {
  readonly requiredInsertCount: number;
  readonly entries: readonly TableEntry[];
}

const DECODER_STREAM_ERROR = H3ErrorCode.QPACK_DECODER_STREAM_ERROR;

/** A QPACK encoder for one HTTP/3 connection. */
export class QpackEncoder {
  /** The dynamic table as we have built it with our encoder-stream instructions. */
  readonly table = new DynamicTable();
  private maxTableCapacity: number;
  private maxBlockedStreams: number;
  private tableCapacity: number;
  private readonly desiredCapacity: number;
  private readonly huffman: HuffmanMode;
  private readonly shouldIndex: (name: string, value: string) => boolean;
  private readonly neverIndex: (name: string, value: string) => boolean;
  private capacitySent = false;
  /** Insertions the decoder has acknowledged (RFC 9204 §2.1.4). */
  private krc = 0;
  /** Unacknowledged sections with dynamic references, per stream, oldest first. */
  private readonly sections = new Map<number, Section[]>();
  private readonly byNameValue = new Map<string, Map<string, number>>(); // newest absolute index
  private readonly byName = new Map<string, number>();
  private drainingCache = -1;
  private readonly cur = new Cursor();
  private pending = new Uint8Array(16); // a decoder instruction split across calls
  private pendingLength = 0;
  private enc = new Writer(new Uint8Array(256)); // encoder-stream output of the current call

  constructor(options: QpackEncoderOptions = {}) {
    this.maxTableCapacity = options.maxTableCapacity ?? 0;
    this.maxBlockedStreams = options.maxBlockedStreams ?? 0;
    this.desiredCapacity = options.tableCapacity ?? 4096;
    this.tableCapacity = Math.min(this.desiredCapacity, this.maxTableCapacity);
    this.huffman = options.huffman ?? 'auto';
    this.shouldIndex = options.shouldIndex ?? defaultShouldIndex;
    this.neverIndex = options.neverIndex ?? defaultNeverIndex;
  }

  /**
   * Applies the peer's SETTINGS when they arrive after this encoder was created (RFC 9114
   * §7.2.4.2). Only possible while the dynamic table is unused.
   */
  applyPeerSettings(maxTableCapacity: number, maxBlockedStreams: number): void {
    if (this.capacitySent) throw new RangeError('QPACK encoder settings changed after the table was used');
    this.maxTableCapacity = maxTableCapacity;
    this.maxBlockedStreams = maxBlockedStreams;
    this.tableCapacity = Math.min(this.desiredCapacity, maxTableCapacity);
  }

  /** Known Received Count: insertions acknowledged by the decoder (RFC 9204 §2.1.4). */
  get knownReceivedCount(): number {
    return this.krc;
  }

  /** Streams whose unacknowledged sections reference unacknowledged entries (RFC 9204 §2.1.2). */
  get blockedStreams(): number {
    let n = 0;
    for (const list of this.sections.values()) if (this.isBlocking(list)) n++;
    return n;
  }

  /**
   * Encodes a field section for `streamId` (RFC 9204 §4.5), inserting into the dynamic table as
   * the policy allows. The encoder-stream bytes must reach the peer's decoder; the field section
   * goes in a HEADERS (or PUSH_PROMISE) frame on `streamId`.
   */
  encodeFieldSection(streamId: number, headers: readonly FieldLine[]): EncodedFieldSection {
    let bound = 20;
    for (const [name, value] of headers)
      bound += maxStringLiteralLength(name, this.huffman) + maxStringLiteralLength(value, this.huffman) + 12;
    const w = new Writer(new Uint8Array(bound));
    this.startEncoderStream(bound + 12);
    const useDynamic = this.tableCapacity > 0;
    const base = this.table.insertCount;
    const list = this.sections.get(streamId);
    // §2.1.2: may this section reference entries the decoder may not have yet?
    let canBlock =
      (list !== undefined && this.isBlocking(list)) || this.blockedStreams < this.maxBlockedStreams;
    const refs: TableEntry[] = [];
    let ric = 0;
    const reference = (abs: number): void => {
      const e = this.table.get(abs) as TableEntry;
      if (!refs.includes(e)) {
        e.refs++;
        refs.push(e);
      }
      if (abs + 1 > ric) ric = abs + 1;
    };
    for (const [name, value] of headers) {
      const mode = this.huffman;
      const staticIndex = staticFind(name, value);
      if (staticIndex >= 0) {
        writeIndexedFieldLine(w, true, staticIndex);
        continue;
      }
      const never = this.neverIndex(name, value);
      if (useDynamic && !never) {
        const abs = this.byNameValue.get(name)?.get(value) ?? -1;
        let target = -1;
        if (abs >= 0 && this.referenceable(abs, canBlock)) target = abs;
        else if (this.shouldIndex(name, value)) {
          // Insert it (or duplicate a draining copy) and reference the new entry if allowed.
          if (abs < 0) target = this.tryInsert(name, value, this.tableCapacity >>> 1);
          else if (abs < this.drainingIndex()) target = this.tryDuplicate(abs);
          if (target >= 0 && !canBlock) target = -1;
        }
        if (target >= 0) {
          reference(target);
          if (target < base) writeIndexedFieldLine(w, false, base - 1 - target);
          else writeIndexedFieldLinePostBase(w, target - base);
          if (target >= this.krc) canBlock = true; // this stream now counts as blocked
          continue;
        }
      }
      const staticName = staticFindName(name);
      if (staticName >= 0) {
        writeLiteralWithNameReference(w, true, staticName, value, never, mode);
        continue;
      }
      const dynName = useDynamic ? (this.byName.get(name) ?? -1) : -1;
      if (dynName >= 0 && this.referenceable(dynName, canBlock)) {
        reference(dynName);
        if (dynName < base) writeLiteralWithNameReference(w, false, base - 1 - dynName, value, never, mode);
        else writeLiteralWithPostBaseNameReference(w, dynName - base, value, never, mode);
        if (dynName >= this.krc) canBlock = true;
        continue;
      }
      writeLiteralWithLiteralName(w, name, value, never, mode);
    }
    if (ric > 0) {
      const section = { requiredInsertCount: ric, entries: refs };
      if (list === undefined) this.sections.set(streamId, [section]);
      else list.push(section);
    }
    const prefix = new Writer(new Uint8Array(22));
    writeFieldSectionPrefix(
      prefix,
      encodeRequiredInsertCount(ric, maxEntries(this.maxTableCapacity)),
      ric,
      ric === 0 ? 0 : base,
    );
    const fieldSection = new Uint8Array(prefix.offset + w.offset);
    fieldSection.set(prefix.written());
    fieldSection.set(w.written(), prefix.offset);
    return { fieldSection, encoderStream: this.enc.buf.slice(0, this.enc.offset) };
  }

  /**
   * Inserts a field line into the dynamic table ahead of use (a speculative insert, RFC 9204
   * Appendix B.3). Returns the encoder-stream bytes, or null when it does not fit now.
   */
  insert(name: string, value: string): Uint8Array | null {
    this.startEncoderStream(
      maxStringLiteralLength(name, this.huffman) + maxStringLiteralLength(value, this.huffman) + 32,
    );
    return this.tryInsert(name, value, Infinity) < 0 ? null : this.enc.buf.slice(0, this.enc.offset);
  }

  /** Re-inserts the entry at absolute index `abs` (RFC 9204 §4.3.4); null when it cannot. */
  duplicate(abs: number): Uint8Array | null {
    this.startEncoderStream(32);
    return this.tryDuplicate(abs) < 0 ? null : this.enc.buf.slice(0, this.enc.offset);
  }

  /**
   * Processes decoder-stream bytes (RFC 9204 §4.4); an instruction may be split across calls.
   * Raises `H3Error` QPACK_DECODER_STREAM_ERROR for an instruction the state does not allow.
   */
  onDecoderStream(bytes: Uint8Array): void {
    let i = 0;
    if (this.pendingLength > 0) {
      // Complete the split instruction a byte at a time (it is at most 10 bytes long).
      while (i < bytes.length && this.pendingLength > 0) {
        this.pending[this.pendingLength++] = bytes[i++];
        if (this.parseInstruction(this.pending, 0, this.pendingLength) !== INCOMPLETE) this.pendingLength = 0;
      }
    }
    while (i < bytes.length) {
      const next = this.parseInstruction(bytes, i, bytes.length);
      if (next === INCOMPLETE) {
        this.pending.set(bytes.subarray(i), 0);
        this.pendingLength = bytes.length - i;
        return;
      }
      i = next;
    }
  }

  private parseInstruction(buf: Uint8Array, pos: number, end: number): number {
    const cur = this.cur;
    cur.pos = pos;
    const first = buf[pos];
    if (first & 0x80) {
      // Section Acknowledgment (RFC 9204 §4.4.1).
      const streamId = readPrefixedInt(buf, cur, end, 7, DECODER_STREAM_ERROR);
      if (streamId === INCOMPLETE) return INCOMPLETE;
      const list = this.sections.get(streamId);
      if (list === undefined)
        throw new H3Error(
          DECODER_STREAM_ERROR,
          `Section Acknowledgment for stream ${streamId} with none pending`,
        );
      const section = list.shift() as Section;
      if (list.length === 0) this.sections.delete(streamId);
      this.release(section);
      if (section.requiredInsertCount > this.krc) this.krc = section.requiredInsertCount; // §2.1.4
    } else if (first & 0x40) {
      // Stream Cancellation (RFC 9204 §4.4.2).
      const streamId = readPrefixedInt(buf, cur, end, 6, DECODER_STREAM_ERROR);
      if (streamId === INCOMPLETE) return INCOMPLETE;
      const list = this.sections.get(streamId);
      if (list !== undefined) {
        for (const section of list) this.release(section);
        this.sections.delete(streamId);
      }
    } else {
      // Insert Count Increment (RFC 9204 §4.4.3).
      const increment = readPrefixedInt(buf, cur, end, 6, DECODER_STREAM_ERROR);
      if (increment === INCOMPLETE) return INCOMPLETE;
      if (increment === 0) throw new H3Error(DECODER_STREAM_ERROR, 'Insert Count Increment of 0');
      if (this.krc + increment > this.table.insertCount)
        throw new H3Error(
          DECODER_STREAM_ERROR,
          `Insert Count Increment to ${this.krc + increment} beyond ${this.table.insertCount} inserts`,
        );
      this.krc += increment;
    }
    return cur.pos;
  }

  private release(section: Section): void {
    for (const e of section.entries) e.refs--;
  }

  private isBlocking(list: readonly Section[]): boolean {
    for (const s of list) if (s.requiredInsertCount > this.krc) return true;
    return false;
  }

  /** May a field section reference entry `abs` now? (RFC 9204 §2.1.1.1, §2.1.2) */
  private referenceable(abs: number, canBlock: boolean): boolean {
    return abs >= this.drainingIndex() && (abs < this.krc || canBlock);
  }

  /**
   * The draining index (RFC 9204 §2.1.1.1): entries below it are the oldest ones that would have
   * to be evicted to keep a quarter of the capacity free, and are not referenced any more.
   */
  private drainingIndex(): number {
    if (this.drainingCache >= 0) return this.drainingCache;
    const t = this.table;
    const target = t.capacity >>> 2;
    let free = t.capacity - t.size;
    let abs = t.droppedCount;
    while (free < target && abs < t.insertCount) free += (t.get(abs++) as TableEntry).size;
    this.drainingCache = abs;
    return abs;
  }

  private startEncoderStream(bound: number): void {
    if (this.enc.buf.length < bound + 16) this.enc = new Writer(new Uint8Array(bound + 16));
    this.enc.offset = 0;
  }

  /**
   * Makes room for `size` bytes by evicting only evictable entries (RFC 9204 §2.1.1, §3.2.2);
   * false (and nothing evicted) when it cannot. Sends the table capacity first if needed.
   */
  private makeRoom(size: number): boolean {
    const t = this.table;
    if (this.tableCapacity === 0 || size > this.tableCapacity) return false;
    if (!this.capacitySent) {
      // §3.2.2: the capacity starts at 0; set it before the first insert.
      writeSetDynamicTableCapacity(this.enc, this.tableCapacity);
      t.capacity = this.tableCapacity;
      this.capacitySent = true;
    }
    let free = t.capacity - t.size;
    let abs = t.droppedCount;
    while (free < size) {
      const e = t.get(abs) as TableEntry;
      if (abs >= this.krc || e.refs > 0) return false; // not evictable
      free += e.size;
      abs++;
    }
    while (t.droppedCount < abs) this.evict();
    return true;
  }

  private evict(): void {
    const abs = this.table.droppedCount;
    const e = this.table.evictOldest();
    const values = this.byNameValue.get(e.name);
    if (values !== undefined && values.get(e.value) === abs) {
      values.delete(e.value);
      if (values.size === 0) this.byNameValue.delete(e.name);
    }
    if (this.byName.get(e.name) === abs) this.byName.delete(e.name);
    this.drainingCache = -1;
  }

  private add(e: TableEntry): number {
    const abs = this.table.append(e);
    let values = this.byNameValue.get(e.name);
    if (values === undefined) this.byNameValue.set(e.name, (values = new Map()));
    values.set(e.value, abs);
    this.byName.set(e.name, abs);
    this.drainingCache = -1;
    return abs;
  }

  /**
   * Inserts name/value if its entry is at most `maxSize` bytes, picking the cheapest instruction
   * (§4.3.2, §4.3.3); returns its absolute index, or -1 when it cannot.
   */
  private tryInsert(name: string, value: string, maxSize: number): number {
    const entry = new TableEntry(name, value, utf8Length(name), utf8Length(value));
    if (entry.size > maxSize) return -1;
    // Pick the name reference before making room, and keep it only if the entry it names survives
    // (§3.2.2 allows naming an entry this insert evicts; not relying on it is kinder to decoders).
    const staticName = staticFindName(name);
    const dynName = staticName < 0 ? (this.byName.get(name) ?? -1) : -1;
    const relative = this.table.insertCount - 1 - dynName;
    if (!this.makeRoom(entry.size)) return -1;
    if (staticName >= 0) writeInsertWithNameReference(this.enc, true, staticName, value, this.huffman);
    else if (dynName >= this.table.droppedCount)
      writeInsertWithNameReference(this.enc, false, relative, value, this.huffman);
    else writeInsertWithLiteralName(this.enc, name, value, this.huffman);
    return this.add(entry);
  }

  private tryDuplicate(abs: number): number {
    const e = this.table.get(abs);
    if (e === undefined) return -1;
    const relative = this.table.insertCount - 1 - abs;
    if (!this.makeRoom(e.size)) return -1;
    writeDuplicate(this.enc, relative);
    return this.add(new TableEntry(e.name, e.value, e.nameLength, e.size - e.nameLength - ENTRY_OVERHEAD));
  }
}
