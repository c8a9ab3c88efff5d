import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { H3Error, H3ErrorCode } from '../../../../core/h3/errors.ts';
import {
  STATIC_TABLE,
  STATIC_TABLE_SIZE,
  staticFind,
  staticFindName,
} from '../../../../core/h3/qpack/static-table.ts';
import {
  DynamicTable,
  TableEntry,
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
  maxEntries,
} from '../../../../core/h3/qpack/dynamic-table.ts';

describe('RFC 9204 §3.1 and Appendix A static table', () => {
  it('has 99 entries, 0-98', () => {
    assert.equal(STATIC_TABLE.length, 99);
    assert.equal(STATIC_TABLE_SIZE, 99);
  });

  it('matches Appendix A at the ends, at each wrapped value and elsewhere', () => {
    const rows: [number, string, string][] = [
      [0, ':authority', ''],
      [1, ':path', '/'],
      [17, ':method', 'GET'],
      [25, ':status', '200'],
      [30, 'accept', 'application/dns-message'],
      [31, 'accept-encoding', 'gzip, deflate, br'],
      [41, 'cache-control', 'public, max-age=31536000'],
      [45, 'content-type', 'application/javascript'],
      [47, 'content-type', 'application/x-www-form-urlencoded'],
      [52, 'content-type', 'text/html; charset=utf-8'],
      [54, 'content-type', 'text/plain;charset=utf-8'],
      [58, 'strict-transport-security', 'max-age=31536000; includesubdomains; preload'],
      [72, 'accept-language', ''],
      [73, 'access-control-allow-credentials', 'FALSE'],
      [85, 'content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"],
      [98, 'x-frame-options', 'sameorigin'],
    ];
    for (const [i, name, value] of rows) assert.deepEqual(STATIC_TABLE[i], [name, value], `index ${i}`);
  });

  it('finds every entry by name and value, and names by their lowest index', () => {
    STATIC_TABLE.forEach(([name, value], i) => {
      assert.equal(staticFind(name, value), i);
      const first = STATIC_TABLE.findIndex(([n]) => n === name);
      assert.equal(staticFindName(name), first);
    });
    assert.equal(staticFind(':method', 'PATCH'), -1);
    assert.equal(staticFindName('x-custom'), -1);
    assert.equal(staticFindName(':status'), 24);
  });
});

describe('RFC 9204 §3.2 dynamic table', () => {
  it('counts an entry as name + value + 32 bytes (§3.2.1)', () => {
    assert.equal(new TableEntry(':authority', 'www.example.com', 10, 15).size, 57);
  });

  it('keeps absolute indices across evictions (§3.2.4)', () => {
    const t = new DynamicTable();
    t.capacity = 100;
    assert.equal(t.append(new TableEntry('a', 'b', 1, 1)), 0);
    assert.equal(t.append(new TableEntry('c', 'd', 1, 1)), 1);
    assert.equal(t.evictOldest().name, 'a');
    assert.equal(t.droppedCount, 1);
    assert.equal(t.get(0), undefined);
    assert.equal(t.get(1)?.name, 'c');
    assert.equal(t.get(2), undefined);
    assert.equal(t.size, 34);
    for (let i = 0; i < 500; i++) {
      t.append(new TableEntry('x', String(i), 1, String(i).length));
      t.evictOldest();
    }
    assert.equal(t.insertCount, 502);
    assert.equal(t.length, 1);
    assert.equal(t.get(501)?.value, '499');
  });
});

describe('RFC 9204 §4.5.1.1 Required Insert Count', () => {
  it('MaxEntries = floor(MaxTableCapacity / 32)', () => {
    assert.equal(maxEntries(100), 3);
    assert.equal(maxEntries(220), 6);
    assert.equal(maxEntries(31), 0);
  });

  it('the example: a 100-byte table, 10 inserts, encoded 4 is 9', () => {
    assert.equal(decodeRequiredInsertCount(4, maxEntries(100), 10), 9);
    assert.equal(encodeRequiredInsertCount(9, maxEntries(100)), 4);
  });

  it('encodes 0 as 0', () => {
    assert.equal(encodeRequiredInsertCount(0, 6), 0);
    assert.equal(decodeRequiredInsertCount(0, 6, 100), 0);
  });

  const failed = (e: unknown) => e instanceof H3Error && e.code === H3ErrorCode.QPACK_DECOMPRESSION_FAILED;

  it('rejects encodings no conformant encoder produces', () => {
    assert.throws(() => decodeRequiredInsertCount(7, 3, 10), failed, 'above FullRange');
    assert.throws(() => decodeRequiredInsertCount(1, 0, 0), failed, 'no dynamic table');
    // MaxValue = 0 + 3 = 3, MaxWrapped = 0: encoded 5 gives 4 > MaxValue and <= FullRange.
    assert.throws(() => decodeRequiredInsertCount(5, 3, 0), failed, 'more than the table can hold');
    // MaxValue = 0 + 3, MaxWrapped = 0: encoded 1 gives 0, which must be encoded as 0.
    assert.throws(() => decodeRequiredInsertCount(1, 3, 0), failed, 'zero encoded as non-zero');
  });

  it('decode(encode(ric)) == ric whenever the decoder could see the section', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 200 }),
        (entries, inserts, back) => {
          // A section's RIC is at most the encoder's inserts, and the encoder cannot have made
          // more than MaxEntries inserts the decoder has not seen (they would not fit the table).
          const decoderInserts = inserts;
          const ric = Math.max(1, decoderInserts + entries - (back % (2 * entries)));
          if (ric > decoderInserts + entries) return;
          const encoded = encodeRequiredInsertCount(ric, entries);
          assert.equal(decodeRequiredInsertCount(encoded, entries, decoderInserts), ric);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
