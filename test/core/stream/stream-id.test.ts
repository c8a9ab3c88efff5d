import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  canReceive,
  canSend,
  firstStreamId,
  initiatorOf,
  isBidirectional,
  isClientInitiated,
  isLocallyInitiated,
  isServerInitiated,
  isUnidirectional,
  nextStreamId,
  streamIdOf,
  streamIndex,
  streamKind,
  streamTypeOf,
} from '../../../core/stream/stream-id.ts';

describe('RFC 9000 §2.1 stream types and identifiers', () => {
  // Table 1: the two low bits.
  const table: [number, 'client' | 'server', 'bidirectional' | 'unidirectional'][] = [
    [0x00, 'client', 'bidirectional'],
    [0x01, 'server', 'bidirectional'],
    [0x02, 'client', 'unidirectional'],
    [0x03, 'server', 'unidirectional'],
  ];
  for (const [bits, initiator, type] of table) {
    it(`0x0${bits} is ${initiator}-initiated, ${type}`, () => {
      for (const id of [bits, bits + 4, bits + 400, bits + 2 ** 52]) {
        assert.equal(streamKind(id), bits);
        assert.equal(initiatorOf(id), initiator);
        assert.equal(isClientInitiated(id), initiator === 'client');
        assert.equal(isServerInitiated(id), initiator === 'server');
        assert.equal(streamTypeOf(id), type);
        assert.equal(isBidirectional(id), type === 'bidirectional');
        assert.equal(isUnidirectional(id), type === 'unidirectional');
      }
      assert.equal(firstStreamId(initiator, type), bits);
    });
  }

  it('successive streams of a type increase by 4; the index counts them from 0', () => {
    assert.equal(streamIndex(0), 0);
    assert.equal(streamIndex(3), 0);
    assert.equal(streamIndex(4), 1);
    assert.equal(streamIndex(11), 2);
    assert.equal(nextStreamId(7), 11);
    assert.equal(streamIdOf('server', 'unidirectional', 2), 11);
    assert.equal(streamIdOf('client', 'bidirectional', 1000), 4000);
    // §4.6 example: a unidirectional limit of 3 lets a server open 3, 7 and 11.
    assert.deepEqual(
      [0, 1, 2].map((i) => streamIdOf('server', 'unidirectional', i)),
      [3, 7, 11],
    );
  });

  it('IDs above 2^32 keep their bits (no 32-bit bit operators)', () => {
    const id = 2 ** 40 + 3;
    assert.equal(streamKind(id), 3);
    assert.equal(streamIndex(id), 2 ** 38);
    assert.equal(streamIdOf('server', 'unidirectional', 2 ** 38), id);
  });

  it('who sends and who receives on each type (§2.1, §3)', () => {
    // A client sends on bidi streams and on its own uni streams; it only receives on server uni.
    assert.equal(isLocallyInitiated(0, 'client'), true);
    assert.equal(isLocallyInitiated(1, 'client'), false);
    assert.equal(isLocallyInitiated(3, 'server'), true);
    assert.deepEqual(
      [0, 1, 2, 3].map((id) => [canSend(id, 'client'), canReceive(id, 'client')]),
      [
        [true, true],
        [true, true],
        [true, false],
        [false, true],
      ],
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((id) => [canSend(id, 'server'), canReceive(id, 'server')]),
      [
        [true, true],
        [true, true],
        [false, true],
        [true, false],
      ],
    );
  });
});
