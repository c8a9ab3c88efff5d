import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CidRouter } from '../../../core/endpoint/cid-router.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';

describe('RFC 9000 §5.2 matching packets to connections by DCID', () => {
  it('looks a CID up inside a datagram, at an offset', () => {
    const r = new CidRouter<string>(8);
    const cid = fromHex('0102030405060708');
    assert.equal(r.add(cid, 'conn-a'), true);
    const datagram = fromHex('40' + '0102030405060708' + 'ffee');
    assert.equal(r.lookup(datagram, 1, 8), 'conn-a');
    assert.equal(r.lookup(datagram, 2, 8), undefined);
    assert.equal(r.get(cid), 'conn-a');
    assert.equal(r.size, 1);
  });

  it('stores a copy of the CID', () => {
    const r = new CidRouter<number>(4);
    const cid = fromHex('aabbccdd');
    r.add(cid, 1);
    cid[0] = 0;
    assert.equal(r.get(fromHex('aabbccdd')), 1);
  });

  it('tells apart CIDs that are prefixes of each other', () => {
    const r = new CidRouter<string>(8);
    r.add(fromHex('aabb'), 'short');
    r.add(fromHex('aabbcc'), 'long');
    r.add(new Uint8Array(0), 'empty');
    assert.equal(r.get(fromHex('aabb')), 'short');
    assert.equal(r.get(fromHex('aabbcc')), 'long');
    assert.equal(r.get(new Uint8Array(0)), 'empty');
    assert.equal(r.get(fromHex('aa')), undefined);
  });

  it('refuses to move a CID to another connection; removes only with the right owner', () => {
    const r = new CidRouter<string>(8);
    const cid = fromHex('0101010101010101');
    assert.equal(r.add(cid, 'a'), true);
    assert.equal(r.add(cid, 'a'), true);
    assert.equal(r.add(cid, 'b'), false);
    assert.equal(r.get(cid), 'a');
    assert.equal(r.remove(cid, 'b'), false);
    assert.equal(r.remove(cid, 'a'), true);
    assert.equal(r.remove(cid), false);
    assert.equal(r.size, 0);
  });

  it('behaves like a Map keyed by hex (property)', () => {
    const cidArb = fc.uint8Array({ minLength: 0, maxLength: 20 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), cid: cidArb, value: fc.nat(5) }),
      fc.record({ kind: fc.constant('remove' as const), cid: cidArb, value: fc.nat(5) }),
      fc.record({ kind: fc.constant('get' as const), cid: cidArb, value: fc.nat(5) }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.array(op, { maxLength: 200 }),
        (seed, ops) => {
          const r = new CidRouter<number>(8, seed);
          const model = new Map<string, number>();
          const seen: Uint8Array[] = [];
          for (const o of ops) {
            // Reuse earlier CIDs often so removes and gets hit.
            const cid = seen.length > 0 && o.value % 2 === 0 ? seen[o.value % seen.length] : o.cid;
            seen.push(cid);
            const k = toHex(cid);
            if (o.kind === 'add') {
              const expected = !model.has(k) || model.get(k) === o.value;
              assert.equal(r.add(cid, o.value), expected);
              if (!model.has(k)) model.set(k, o.value);
            } else if (o.kind === 'remove') {
              assert.equal(r.remove(cid), model.delete(k));
            } else {
              assert.equal(r.get(cid), model.get(k));
            }
            assert.equal(r.size, model.size);
          }
          assert.deepEqual(new Map([...r.entries()].map(([c, v]) => [toHex(c), v])), model);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds 20 000 CIDs that share their first bytes (hash over every byte)', () => {
    const r = new CidRouter<number>(8, fromHex('0102030405060708'));
    const cid = new Uint8Array(8);
    for (let i = 0; i < 20_000; i++) {
      cid[6] = i >> 8;
      cid[7] = i & 0xff;
      r.add(cid, i);
    }
    for (let i = 0; i < 20_000; i++) {
      cid[6] = i >> 8;
      cid[7] = i & 0xff;
      assert.equal(r.get(cid), i);
    }
    assert.equal(r.size, 20_000);
  });

  it('rejects a CID length outside 0..20', () => {
    assert.throws(() => new CidRouter(21), RangeError);
    assert.throws(() => new CidRouter(-1), RangeError);
  });
});
