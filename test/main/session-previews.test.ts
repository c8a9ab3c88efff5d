// Previews sent as updates (contract v3): what arrived on a raw stream or in a response body goes to
// the window once — the bytes previewed since the previous update, then only the size — and the
// window that applies every update (main/ipc/preview.ts, the store's mergeStream) holds exactly
// what a snapshot holds, whether it followed from the start or joined from a snapshot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PreviewBuffer, previewOf } from '../../main/session/payload.ts';
import { PROGRESS_INTERVAL, SessionAggregate } from '../../main/session/aggregate.ts';
import { applyPayloadUpdate, bytesOfHex, previewText } from '../../main/ipc/preview.ts';
import { PREVIEW_LIMIT } from '../../main/ipc/contract.ts';
import type { PayloadPreview, PayloadUpdate, StreamRow } from '../../main/ipc/contract.ts';
import { mergeStream } from '../../renderer/src/store/store.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
/** The window's side: every update folded in order onto `from`. */
const fold = (updates: PayloadUpdate[], from?: PayloadPreview): PayloadPreview | undefined =>
  updates.reduce<PayloadPreview | undefined>((p, u) => applyPayloadUpdate(p, u), from);

describe('preview updates: appended bytes, then the size', () => {
  it('sends the bytes kept since the previous update, then only the size once the preview is full', () => {
    const p = new PreviewBuffer(8);
    assert.deepEqual(p.update(), { size: 0, appendAt: 0, hex: '' }, 'the first update, empty');
    p.push(utf8('abc'));
    assert.deepEqual(p.update(), { size: 3, appendAt: 0, hex: '616263' });
    assert.deepEqual(p.update(), { size: 3, previewUnchanged: true }, 'nothing new');
    p.push(utf8('defghij'));
    assert.deepEqual(p.update(), { size: 10, appendAt: 3, hex: '6465666768' }, 'up to the limit');
    p.push(utf8('klm'));
    assert.deepEqual(p.update(), { size: 13, previewUnchanged: true }, 'full: the size only');
    assert.deepEqual(p.preview(), { size: 13, hex: '6162636465666768', text: 'abcdefgh', truncated: true });
  });

  it('a preview that becomes truncated without new bytes is an empty append: the window recomputes text', () => {
    const p = new PreviewBuffer(4);
    p.push(Uint8Array.of(0x61, 0x62, 0x63, 0xc3)); // "abc" and the first byte of "é"
    const first = p.update();
    assert.equal(fold([first])?.text, null, 'a whole message ending mid-sequence is not text');
    p.push(Uint8Array.of(0xa9));
    const second = p.update();
    assert.deepEqual(second, { size: 5, appendAt: 4, hex: '' });
    const w = fold([first, second]);
    assert.deepEqual(w, { size: 5, hex: '616263c3', text: 'abc', truncated: true });
    assert.deepEqual(w, p.preview());
  });

  it('a 10 MB raw stream read in 64 KiB pieces sends its 64 KiB preview once, then sizes', () => {
    const p = new PreviewBuffer();
    const chunk = new Uint8Array(65_536).fill(0x78);
    const updates: PayloadUpdate[] = [];
    for (let got = 0; got < 10_000_000; got += chunk.length) {
      p.push(chunk.subarray(0, Math.min(chunk.length, 10_000_000 - got)));
      updates.push(p.update());
    }
    const hexChars = updates.reduce((n, u) => n + ('hex' in u ? u.hex.length : 0), 0);
    assert.equal(hexChars, 2 * PREVIEW_LIMIT, 'each previewed byte once');
    assert.ok(
      updates.slice(2).every((u) => 'previewUnchanged' in u),
      'the size only',
    );
    assert.ok(
      updates.slice(2).every((u) => JSON.stringify(u).length < 50),
      'a size update is small',
    );
    assert.deepEqual(fold(updates), p.preview());
    assert.equal(p.preview().size, 10_000_000);
  });

  it('property: the window that applies every update holds the snapshot, from the start or from a snapshot', () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }).map(utf8),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 48 }),
        fc.array(fc.record({ data: fc.array(piece, { maxLength: 3 }), snapshot: fc.boolean() }), {
          maxLength: 25,
        }),
        (limit, rounds) => {
          const p = new PreviewBuffer(limit);
          let fromStart: PayloadPreview | undefined;
          let joined: PayloadPreview | undefined;
          for (const round of rounds) {
            for (const d of round.data) p.push(d);
            // A window that joins now gets the snapshot: bytes newer than the last update, maybe.
            if (round.snapshot) joined = p.preview();
            const u = p.update();
            fromStart = applyPayloadUpdate(fromStart, u);
            if (joined !== undefined) joined = applyPayloadUpdate(joined, u);
            const snap = p.preview();
            assert.deepEqual(fromStart, snap);
            if (joined !== undefined) assert.deepEqual(joined, snap);
            assert.deepEqual(snap, previewOf(p.bytes(), p.size), 'the same text rule as a one-off preview');
          }
        },
      ),
    );
  });
});

describe('raw stream rows: the window that applies every row update holds the snapshot', () => {
  it('property: rows folded with mergeStream equal snapshotRows after each batch', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.record({
              id: fc.constantFrom(0, 1, 3, 4),
              data: fc.uint8Array({ maxLength: 30_000 }),
            }),
            { maxLength: 4 },
          ),
          { maxLength: 12 },
        ),
        (rounds) => {
          const a = new SessionAggregate({ origin: 0, h3: false });
          const w = new Map<number, StreamRow>();
          let now = 0;
          for (const round of rounds) {
            for (const { id, data } of round) {
              a.receivedPreview(id).push(data);
              a.touchRow(id, true);
            }
            now += PROGRESS_INTERVAL;
            for (const u of a.takeRows(now)) w.set(u.id, mergeStream(w.get(u.id), u));
            assert.deepEqual(
              [...w.keys()].sort((x, y) => x - y).map((id) => w.get(id)),
              a.snapshotRows(),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rows without anything received carry no preview; a snapshot carries whole previews', () => {
    const a = new SessionAggregate({ origin: 0, h3: false });
    a.row(0);
    a.receivedPreview(1).push(utf8('hello'));
    const [r0, r1] = a.takeRows();
    assert.equal(r0.received, null);
    assert.deepEqual(r1.received, { size: 5, appendAt: 0, hex: '68656c6c6f' });
    a.receivedPreview(1).push(utf8(' world'));
    assert.deepEqual(a.snapshotRows()[1].received, {
      size: 11,
      hex: '68656c6c6f20776f726c64',
      text: 'hello world',
      truncated: false,
    });
    a.touchRow(1, true);
    assert.deepEqual(a.takeRows()[0].received, { size: 11, appendAt: 5, hex: '20776f726c64' });
  });
});

describe('the window’s preview rule (main/ipc/preview.ts)', () => {
  it('an append past the bytes the window has (missed batches) keeps them until the snapshot', () => {
    const had = previewOf(utf8('ab'));
    assert.deepEqual(applyPayloadUpdate(had, { size: 9, appendAt: 5, hex: '7a' }), {
      size: 9,
      hex: '6162',
      text: 'ab',
      truncated: true,
    });
  });

  it('an append below what the window has rewrites the same bytes (after a newer snapshot)', () => {
    const snap = previewOf(utf8('abcd'));
    assert.deepEqual(
      applyPayloadUpdate(snap, { size: 5, appendAt: 2, hex: '636465' }),
      previewOf(utf8('abcde')),
    );
  });

  it('hex both ways; text cut inside a sequence only when truncated', () => {
    assert.deepEqual(bytesOfHex('00ff7A'), Uint8Array.of(0, 255, 0x7a));
    assert.throws(() => bytesOfHex('abc'), RangeError);
    assert.throws(() => bytesOfHex('zz'), RangeError);
    const euro = utf8('a€'); // 61 e2 82 ac
    assert.equal(previewText(euro.subarray(0, 3), true), 'a');
    assert.equal(previewText(euro.subarray(0, 3), false), null);
    assert.equal(previewText(Uint8Array.of(0xff, 0x61, 0x62, 0x63), true), null, 'invalid before the cut');
  });
});
