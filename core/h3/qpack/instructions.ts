/**
 * Byte-level writers for every QPACK instruction and representation: encoder instructions
 * (RFC 9204 §4.3), decoder instructions (§4.4), the encoded field section prefix (§4.5.1) and the
 * five field line representations (§4.5.2-§4.5.6). Each writes into a caller's `Writer`.
 * The encoder and decoder decide what to write; the readers live beside them.
 */
import type { Writer } from '../../wire/buffer.ts';
import { writePrefixedInt, writeString } from './primitives.ts';
import type { HuffmanMode } from './primitives.ts';

// Encoder instructions (RFC 9204 §4.3).

/** Set Dynamic Table Capacity: '001' + capacity (5+) (RFC 9204 §4.3.1). */
export function writeSetDynamicTableCapacity(w: Writer, capacity: number): void {
  writePrefixedInt(w, 0x20, 5, capacity);
}

/**
 * Insert with Name Reference: '1' T + name index (6+), value (8+ string) (RFC 9204 §4.3.2). A
 * dynamic `index` is relative to the insert count (§3.2.5).
 */
export function writeInsertWithNameReference(
  w: Writer,
  isStatic: boolean,
  index: number,
  value: string,
  mode: HuffmanMode,
): void {
  writePrefixedInt(w, isStatic ? 0xc0 : 0x80, 6, index);
  writeString(w, 0x00, 8, value, mode);
}

/** Insert with Literal Name: '01' + name (6+ string), value (8+ string) (RFC 9204 §4.3.3). */
export function writeInsertWithLiteralName(w: Writer, name: string, value: string, mode: HuffmanMode): void {
  writeString(w, 0x40, 6, name, mode);
  writeString(w, 0x00, 8, value, mode);
}

/** Duplicate: '000' + relative index (5+) (RFC 9204 §4.3.4). */
export function writeDuplicate(w: Writer, relativeIndex: number): void {
  writePrefixedInt(w, 0x00, 5, relativeIndex);
}

// Decoder instructions (RFC 9204 §4.4).

/** Section Acknowledgment: '1' + stream ID (7+) (RFC 9204 §4.4.1). */
export function writeSectionAcknowledgment(w: Writer, streamId: number): void {
  writePrefixedInt(w, 0x80, 7, streamId);
}

/** Stream Cancellation: '01' + stream ID (6+) (RFC 9204 §4.4.2). */
export function writeStreamCancellation(w: Writer, streamId: number): void {
  writePrefixedInt(w, 0x40, 6, streamId);
}

/** Insert Count Increment: '00' + increment (6+) (RFC 9204 §4.4.3). */
export function writeInsertCountIncrement(w: Writer, increment: number): void {
  writePrefixedInt(w, 0x00, 6, increment);
}

// Field line representations (RFC 9204 §4.5).

/**
 * The encoded field section prefix (RFC 9204 §4.5.1): Encoded Required Insert Count (8+), then
 * Sign and Delta Base (7+) giving `base` relative to `requiredInsertCount` (§4.5.1.2).
 */
export function writeFieldSectionPrefix(
  w: Writer,
  encodedInsertCount: number,
  requiredInsertCount: number,
  base: number,
): void {
  writePrefixedInt(w, 0x00, 8, encodedInsertCount);
  if (base >= requiredInsertCount) writePrefixedInt(w, 0x00, 7, base - requiredInsertCount);
  else writePrefixedInt(w, 0x80, 7, requiredInsertCount - base - 1);
}

/** Indexed Field Line: '1' T + index (6+); a dynamic index is relative to Base (RFC 9204 §4.5.2). */
export function writeIndexedFieldLine(w: Writer, isStatic: boolean, index: number): void {
  writePrefixedInt(w, isStatic ? 0xc0 : 0x80, 6, index);
}

/** Indexed Field Line with Post-Base Index: '0001' + index (4+) (RFC 9204 §4.5.3). */
export function writeIndexedFieldLinePostBase(w: Writer, postBaseIndex: number): void {
  writePrefixedInt(w, 0x10, 4, postBaseIndex);
}

/**
 * Literal Field Line with Name Reference: '01' N T + name index (4+), value (8+ string)
 * (RFC 9204 §4.5.4). `neverIndex` sets the N bit.
 */
export function writeLiteralWithNameReference(
  w: Writer,
  isStatic: boolean,
  index: number,
  value: string,
  neverIndex: boolean,
  mode: HuffmanMode,
): void {
  writePrefixedInt(w, 0x40 | (neverIndex ? 0x20 : 0) | (isStatic ? 0x10 : 0), 4, index);
  writeString(w, 0x00, 8, value, mode);
}

/**
 * Literal Field Line with Post-Base Name Reference: '0000' N + index (3+), value (8+ string)
 * (RFC 9204 §4.5.5).
 */
export function writeLiteralWithPostBaseNameReference(
  w: Writer,
  postBaseIndex: number,
  value: string,
  neverIndex: boolean,
  mode: HuffmanMode,
): void {
  writePrefixedInt(w, neverIndex ? 0x08 : 0x00, 3, postBaseIndex);
  writeString(w, 0x00, 8, value, mode);
}

/** Literal Field Line with Literal Name: '001' N + name (4+ string), value (8+ string) (RFC 9204 §4.5.6). */
export function writeLiteralWithLiteralName(
  w: Writer,
  name: string,
  value: string,
  neverIndex: boolean,
  mode: HuffmanMode,
): void {
  writeString(w, 0x20 | (neverIndex ? 0x10 : 0), 4, name, mode);
  writeString(w, 0x00, 8, value, mode);
}
