import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QpackEncoder } from '../../../../core/h3/qpack/encoder.ts';
import { QpackDecoder } from '../../../../core/h3/qpack/decoder.ts';
import type { FieldLine } from '../../../../core/h3/qpack/decoder.ts';
import type { HuffmanMode } from '../../../../core/h3/qpack/primitives.ts';

/** A small deterministic PRNG (mulberry32) to schedule deliveries from a fast-check seed. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

/** An in-order byte pipe delivered in random pieces. */
class Pipe {
  private chunks: Uint8Array[] = [];
  push(b: Uint8Array): void {
    if (b.length > 0) this.chunks.push(b);
  }
  get empty(): boolean {
    return this.chunks.length === 0;
  }
  /** Takes a random prefix (at least one byte). */
  take(rand: (n: number) => number): Uint8Array {
    const head = this.chunks[0];
    const n = 1 + rand(head.length);
    if (n === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    return head.subarray(0, n);
  }
}

const nameArb = fc.oneof(
  fc.constantFrom(
    ':authority',
    ':path',
    ':method',
    'user-agent',
    'accept',
    'cookie',
    'x-a',
    'x-b',
    'authorization',
  ),
  fc.string({ minLength: 1, maxLength: 12 }),
);
const valueArb = fc.oneof(
  fc.constantFrom('', 'GET', '/', 'a', 'b', 'www.example.com', 'text/html; charset=utf-8'),
  fc.string({ maxLength: 40 }),
  fc
    .array(fc.constantFrom('é', 'ü', '€', '中', '😀', '\u0000', '\u00ff'), { maxLength: 6 })
    .map((a) => a.join('')),
);
const headersArb = fc.array(fc.tuple(nameArb, valueArb) as fc.Arbitrary<FieldLine>, { maxLength: 10 });

interface Scenario {
  requests: FieldLine[][][]; // per stream: its field sections in order (headers, maybe trailers)
  capacity: number;
  maxBlocked: number;
  huffman: HuffmanMode;
  indexAll: boolean;
  cancelEvery: number; // cancel about one stream in `cancelEvery` (0: never)
  seed: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  requests: fc.array(fc.array(headersArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 14 }),
  capacity: fc.oneof(fc.constant(0), fc.integer({ min: 32, max: 300 }), fc.integer({ min: 300, max: 4096 })),
  maxBlocked: fc.integer({ min: 0, max: 5 }),
  huffman: fc.constantFrom<HuffmanMode>('auto', 'always', 'never'),
  indexAll: fc.boolean(),
  cancelEvery: fc.constantFrom(0, 0, 3, 5),
  seed: fc.integer(),
});

/**
 * Runs the scenario: the encoder encodes the requests one by one while, in a random interleaving,
 * encoder-stream bytes reach the decoder in random pieces, field sections reach it in any order
 * across streams (in order within a stream), decoder-stream bytes flow back, and some streams are
 * cancelled. Every stream not cancelled must decode to exactly what was encoded.
 */
function run(s: Scenario): void {
  const rand = rng(s.seed);
  const enc = new QpackEncoder({
    maxTableCapacity: s.capacity,
    maxBlockedStreams: s.maxBlocked,
    huffman: s.huffman,
    ...(s.indexAll ? { shouldIndex: () => true } : {}),
  });
  const dec = new QpackDecoder({ maxTableCapacity: s.capacity, maxBlockedStreams: s.maxBlocked });
  const encoderPipe = new Pipe();
  const decoderPipe = new Pipe();
  const inFlight = new Map<number, Uint8Array[]>(); // encoded sections not delivered, per stream
  const got = new Map<number, FieldLine[][]>();
  const cancelled = new Set<number>();
  const record = (streamId: number, headers: FieldLine[]): void => {
    assert.ok(!cancelled.has(streamId), `stream ${streamId} decoded after cancellation`);
    const list = got.get(streamId) ?? [];
    list.push(headers);
    got.set(streamId, list);
  };
  let next = 0; // next (stream, section) to encode
  let section = 0;
  for (let steps = 0; ; steps++) {
    const canEncode = next < s.requests.length;
    const choice = rand(canEncode ? 6 : 5);
    if (choice === 5 || (steps > 10_000 && canEncode)) {
      const streamId = next * 4;
      if (!cancelled.has(streamId)) {
        // (A reset stream carries no more sections.)
        const r = enc.encodeFieldSection(streamId, s.requests[next][section]);
        encoderPipe.push(r.encoderStream);
        const list = inFlight.get(streamId) ?? [];
        list.push(r.fieldSection);
        inFlight.set(streamId, list);
      }
      if (++section === s.requests[next].length) {
        next++;
        section = 0;
      }
    } else if (choice <= 1 && !encoderPipe.empty) {
      for (const u of dec.onEncoderStream(encoderPipe.take(rand))) {
        assert.ok('headers' in u, 'no limit errors expected');
        record(u.streamId, u.headers);
      }
    } else if (choice === 2 && inFlight.size > 0) {
      const streams = [...inFlight.keys()];
      const streamId = streams[rand(streams.length)];
      const list = inFlight.get(streamId) as Uint8Array[];
      const bytes = list.shift() as Uint8Array;
      if (list.length === 0) inFlight.delete(streamId);
      if (s.cancelEvery > 0 && rand(s.cancelEvery) === 0) {
        // The stream is reset: what was in flight is lost, the decoder cancels it.
        inFlight.delete(streamId);
        cancelled.add(streamId);
        got.delete(streamId);
        dec.cancelStream(streamId);
      } else {
        const r = dec.decodeFieldSection(streamId, bytes);
        if ('headers' in r) record(streamId, r.headers);
      }
    } else if (choice === 3) {
      decoderPipe.push(dec.takeDecoderStream());
    } else if (choice === 4 && !decoderPipe.empty) {
      enc.onDecoderStream(decoderPipe.take(rand));
    } else if (!canEncode && encoderPipe.empty && inFlight.size === 0) {
      break;
    }
  }
  // Drain the feedback: every section is acknowledged or cancelled.
  decoderPipe.push(dec.takeDecoderStream());
  while (!decoderPipe.empty) enc.onDecoderStream(decoderPipe.take(rand));

  assert.equal(dec.blockedStreams, 0);
  s.requests.forEach((sections, i) => {
    const streamId = i * 4;
    if (!cancelled.has(streamId)) assert.deepEqual(got.get(streamId), sections, `stream ${streamId}`);
  });
  assert.equal(dec.table.insertCount, enc.table.insertCount);
  assert.equal(dec.table.size, enc.table.size);
  assert.equal(enc.knownReceivedCount, enc.table.insertCount, 'every insert acknowledged');
  assert.equal(enc.blockedStreams, 0);
  for (let abs = enc.table.droppedCount; abs < enc.table.insertCount; abs++) {
    assert.equal(enc.table.get(abs)?.refs, 0, `entry ${abs} still referenced`);
    assert.equal(dec.table.get(abs)?.value, enc.table.get(abs)?.value);
  }
}

describe('RFC 9204 QPACK encoder and decoder together', () => {
  it('decode(encode(headers)) == headers under random capacities, limits and interleavings', () => {
    fc.assert(fc.property(scenarioArb, run), { numRuns: 400 });
  });

  it('survives a long connection whose insert count wraps the Required Insert Count encoding', () => {
    // A 64-byte table holds 2 entries (MaxEntries 2): the encoding wraps every 4 inserts.
    const requests: FieldLine[][][] = [];
    for (let i = 0; i < 200; i++) requests.push([[['x-n', String(i % 7)]]]);
    for (let seed = 0; seed < 20; seed++) {
      run({ requests, capacity: 64, maxBlocked: 2, huffman: 'auto', indexAll: true, cancelEvery: 0, seed });
    }
  });
});
