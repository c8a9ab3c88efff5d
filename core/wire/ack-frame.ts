/**
 * ACK frames (RFC 9000 §19.3): decoding into descending ranges, bounded by MAX_ACK_RANGES, and
 * encoding from descending ranges (Gaps and ACK Range Lengths computed here, §19.3.1).
 */
import { varintLength } from './buffer.ts';
import type { Reader, Writer } from './buffer.ts';
import { frameEncodingError } from './errors.ts';
import { FrameType } from './frame-types.ts';
import type { AckFields, AckFrame, AckRange, EcnCounts } from './frame-types.ts';

/**
 * The most ACK ranges `decodeFrame` keeps (the first range included). An ACK frame may list
 * more: they are all parsed and validated, but only the first (highest) MAX_ACK_RANGES are kept,
 * so a peer cannot make us hold more than this per frame. The ranges dropped are the oldest
 * packets; they stay unacknowledged by this frame, which is safe (a later ACK or loss recovery
 * settles them).
 */
export const MAX_ACK_RANGES = 256;

/**
 * Reads the rest of an ACK frame whose type byte (0x02 or 0x03, `type`) was just read (RFC 9000
 * §19.3). Ranges that reach below packet number 0 are a FRAME_ENCODING_ERROR (§19.3.1).
 */
export function decodeAck(r: Reader, type: number): AckFrame {
  const start = r.offset;
  const largestAcknowledged = r.varint();
  // Above 2^53 double arithmetic is inexact: validate on bigints (a rare, slow path).
  if (largestAcknowledged > Number.MAX_SAFE_INTEGER) {
    r.offset = start;
    return decodeAckExact(r, type);
  }
  const ackDelay = r.varint();
  const count = readAckRangeCount(r);
  // Every value below is exact: each one is checked to stay >= 0 before it is used, so all of
  // them lie in 0..largestAcknowledged; a huge Gap or Length only makes the result negative.
  let smallest = largestAcknowledged - r.varint();
  // RFC 9000 §19.3.1: a computed packet number below zero is a FRAME_ENCODING_ERROR.
  if (smallest < 0) throw frameEncodingError('ACK range below packet number 0', type);
  const ranges: AckRange[] = [{ smallest, largest: largestAcknowledged }];
  for (let i = 0; i < count; i++) {
    const gap = r.varint();
    const length = r.varint();
    const largest = smallest - gap - 2; // RFC 9000 §19.3.1
    const low = largest - length;
    if (low < 0) throw frameEncodingError('ACK range below packet number 0', type);
    if (ranges.length < MAX_ACK_RANGES) ranges.push({ smallest: low, largest });
    smallest = low;
  }
  if (type === FrameType.ACK) return { type: 'ack', largestAcknowledged, ackDelay, ranges };
  return { type: 'ack', largestAcknowledged, ackDelay, ranges, ecn: readEcn(r) };
}

function decodeAckExact(r: Reader, type: number): AckFrame {
  const largestBig = r.varintBig();
  const ackDelay = r.varint();
  const count = readAckRangeCount(r);
  let smallest = largestBig - r.varintBig();
  if (smallest < 0n) throw frameEncodingError('ACK range below packet number 0', type);
  const largestAcknowledged = Number(largestBig);
  const ranges: AckRange[] = [{ smallest: Number(smallest), largest: largestAcknowledged }];
  for (let i = 0; i < count; i++) {
    const gap = r.varintBig();
    const length = r.varintBig();
    const largest = smallest - gap - 2n;
    const low = largest - length;
    if (low < 0n) throw frameEncodingError('ACK range below packet number 0', type);
    if (ranges.length < MAX_ACK_RANGES) ranges.push({ smallest: Number(low), largest: Number(largest) });
    smallest = low;
  }
  if (type === FrameType.ACK) return { type: 'ack', largestAcknowledged, ackDelay, ranges };
  return { type: 'ack', largestAcknowledged, ackDelay, ranges, ecn: readEcn(r) };
}

function readAckRangeCount(r: Reader): number {
  const count = r.varint();
  // Each further range takes at least two bytes (Gap, ACK Range Length) after the First ACK
  // Range: a count the rest of the input cannot hold is a truncated frame.
  if (count > (r.remaining - 1) / 2) r.fail(`truncated ACK: ${count} ranges announced`);
  return count;
}

function readEcn(r: Reader): EcnCounts {
  const ect0 = r.varint();
  const ect1 = r.varint();
  const ce = r.varint();
  return { ect0, ect1, ce };
}

/** The Gap field before range `i` (i >= 1): previous smallest - this largest - 2. */
function ackGap(ranges: readonly AckRange[], i: number): number {
  const gap = ranges[i - 1].smallest - ranges[i].largest - 2;
  if (!(gap >= 0)) throw new RangeError(`ACK ranges ${i - 1} and ${i} overlap, touch or are not descending`);
  return gap;
}

function ackRangeLength(range: AckRange): number {
  const n = range.largest - range.smallest;
  if (!(n >= 0)) throw new RangeError(`ACK range ${range.smallest}..${range.largest} is inverted`);
  return n;
}

function checkAckHead(ack: AckFields): void {
  const ranges = ack.ranges;
  if (ranges.length === 0) throw new RangeError('an ACK frame needs at least one range');
  if (ranges[0].largest !== ack.largestAcknowledged)
    throw new RangeError('the first ACK range must end at largestAcknowledged');
}

/** The exact encoded size of an ACK frame with these fields (type 0x03 when `ecn` is set). */
export function ackFrameLength(ack: AckFields): number {
  checkAckHead(ack);
  const ranges = ack.ranges;
  let n =
    1 +
    varintLength(ack.largestAcknowledged) +
    varintLength(ack.ackDelay) +
    varintLength(ranges.length - 1) +
    varintLength(ackRangeLength(ranges[0]));
  for (let i = 1; i < ranges.length; i++)
    n += varintLength(ackGap(ranges, i)) + varintLength(ackRangeLength(ranges[i]));
  const ecn = ack.ecn;
  if (ecn !== undefined) n += varintLength(ecn.ect0) + varintLength(ecn.ect1) + varintLength(ecn.ce);
  return n;
}

/** Writes an ACK frame, computing Gaps and Range Lengths from the descending ranges; returns its size. */
export function writeAckFrame(w: Writer, ack: AckFields): number {
  checkAckHead(ack);
  const start = w.offset;
  const ranges = ack.ranges;
  const ecn = ack.ecn;
  w.u8(ecn === undefined ? FrameType.ACK : FrameType.ACK_ECN)
    .varint(ack.largestAcknowledged)
    .varint(ack.ackDelay)
    .varint(ranges.length - 1)
    .varint(ackRangeLength(ranges[0]));
  for (let i = 1; i < ranges.length; i++) w.varint(ackGap(ranges, i)).varint(ackRangeLength(ranges[i]));
  if (ecn !== undefined) w.varint(ecn.ect0).varint(ecn.ect1).varint(ecn.ce);
  return w.offset - start;
}
