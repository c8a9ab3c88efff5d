/**
 * The QPACK dynamic table (RFC 9204 §3.2) as both the encoder and the decoder keep it: a FIFO of
 * entries addressed by absolute index (§3.2.4), with its capacity, size and eviction (§3.2.2),
 * and the Required Insert Count encoding of §4.5.1.1. Relative and post-base indexing (§3.2.5,
 * §3.2.6) are plain arithmetic on absolute indices done by the encoder and decoder.
 */
import { H3Error, H3ErrorCode } from '../errors.ts';

/** Bytes each entry adds to the table size beyond its name and value (RFC 9204 §3.2.1). */
export const ENTRY_OVERHEAD = 32;

/** One dynamic table entry. `refs` is used by the encoder only (sections that reference it). */
export class TableEntry {
  /** Name length + value length (in bytes, before Huffman coding) + 32 (RFC 9204 §3.2.1). */
  readonly size: number;
  /** Unacknowledged field sections referencing this entry (encoder side, RFC 9204 §2.1.1). */
  refs = 0;
  constructor(
    readonly name: string,
    readonly value: string,
    /** UTF-8 length of the name. */
    readonly nameLength: number,
    valueLength: number,
  ) {
    this.size = nameLength + valueLength + ENTRY_OVERHEAD;
  }
}

/** The dynamic table: entries from absolute index `droppedCount` to `insertCount - 1`. */
export class DynamicTable {
  /** Current capacity (RFC 9204 §3.2.2); starts at 0. */
  capacity = 0;
  /** Sum of entry sizes (RFC 9204 §3.2.1). */
  size = 0;
  /** Entries inserted so far, i.e. the absolute index of the next one (RFC 9204 §3.2.4). */
  insertCount = 0;
  private entries: TableEntry[] = [];
  private head = 0;

  /** Number of entries evicted so far: the absolute index of the oldest entry still present. */
  get droppedCount(): number {
    return this.insertCount - (this.entries.length - this.head);
  }

  /** Number of entries in the table. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** The entry with absolute index `abs`, or undefined when evicted or not inserted yet. */
  get(abs: number): TableEntry | undefined {
    const i = abs - this.droppedCount;
    if (i < 0 || i >= this.length) return undefined;
    return this.entries[this.head + i];
  }

  /** Appends `entry` (the caller made room for it); returns its absolute index. */
  append(entry: TableEntry): number {
    this.entries.push(entry);
    this.size += entry.size;
    return this.insertCount++;
  }

  /** Removes and returns the oldest entry. */
  evictOldest(): TableEntry {
    const e = this.entries[this.head];
    this.entries[this.head++] = undefined as unknown as TableEntry;
    this.size -= e.size;
    if (this.head >= 64 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return e;
  }
}

/** MaxEntries = floor(MaxTableCapacity / 32) (RFC 9204 §4.5.1.1). */
export function maxEntries(maxTableCapacity: number): number {
  return Math.floor(maxTableCapacity / ENTRY_OVERHEAD);
}

/** The Encoded Required Insert Count for `ric` (RFC 9204 §4.5.1.1). */
export function encodeRequiredInsertCount(ric: number, maxEntryCount: number): number {
  return ric === 0 ? 0 : (ric % (2 * maxEntryCount)) + 1;
}

/**
 * Recovers the Required Insert Count from its encoding (RFC 9204 §4.5.1.1); a value no conformant
 * encoder could produce is a QPACK_DECOMPRESSION_FAILED.
 */
export function decodeRequiredInsertCount(
  encoded: number,
  maxEntryCount: number,
  totalInserts: number,
): number {
  if (encoded === 0) return 0;
  const fullRange = 2 * maxEntryCount;
  const fail = (why: string): never => {
    throw new H3Error(H3ErrorCode.QPACK_DECOMPRESSION_FAILED, `invalid Required Insert Count: ${why}`);
  };
  if (encoded > fullRange) fail(`encoded ${encoded} above ${fullRange}`);
  const maxValue = totalInserts + maxEntryCount;
  const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
  let ric = maxWrapped + encoded - 1;
  if (ric > maxValue) {
    if (ric <= fullRange) fail(`${ric} beyond the inserts the encoder can have made`);
    ric -= fullRange;
  }
  if (ric === 0) fail('zero encoded as non-zero');
  return ric;
}
