// Shared helpers for the core/stream tests.
import assert from 'node:assert/strict';
import { QuicError } from '../../../core/wire/errors.ts';
import type { StreamLimits } from '../../../core/stream/stream-map.ts';

/** Asserts that `fn` throws a QuicError with `code` (and `frameType` when given). */
export function assertQuicError(fn: () => unknown, code: number, frameType?: number): QuicError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof QuicError, `expected a QuicError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (frameType !== undefined) assert.equal(caught.frameType, frameType, caught.message);
  return caught;
}

/** Transport parameters with every stream-data limit `data`, connection limit `maxData`, and `streams` of each type. */
export function limits(data: number, maxData: number, streams: number, uni = streams): StreamLimits {
  return {
    initialMaxData: maxData,
    initialMaxStreamDataBidiLocal: data,
    initialMaxStreamDataBidiRemote: data,
    initialMaxStreamDataUni: data,
    initialMaxStreamsBidi: streams,
    initialMaxStreamsUni: uni,
  };
}

/** Deterministic bytes 0..n-1 (mod 251, so that misplaced bytes show). */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}
