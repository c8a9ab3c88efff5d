import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalCids,
  MAX_CID_EVENTS,
  MAX_ISSUED_CIDS,
  MAX_TOTAL_CIDS,
  PeerCids,
  statelessResetToken,
} from '../../../core/connection/cid.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import type { NewConnectionIdFrame } from '../../../core/wire/frame-types.ts';

const KEY = new Uint8Array(32).fill(7);

function cid(n: number, len = 8): Uint8Array {
  return new Uint8Array(len).fill(n);
}

function ncid(seq: number, rpt = 0, c = cid(seq + 100)): NewConnectionIdFrame {
  return {
    type: 'new_connection_id',
    sequenceNumber: seq,
    retirePriorTo: rpt,
    connectionId: c,
    statelessResetToken: new Uint8Array(16).fill(seq),
  };
}

function code(fn: () => void): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof QuicError, String(e));
    return e.code;
  }
  assert.fail('expected a QuicError');
}

describe('RFC 9000 §5.1.1 issuing connection IDs', () => {
  it('issues up to the peer limit, each with a reset token derived from the CID (§10.3.2)', () => {
    const l = new LocalCids(nodeProvider, KEY, cid(1));
    assert.equal(l.pendingNew.length, 0);
    l.setPeerLimit(4);
    assert.deepEqual(l.pendingNew, [1, 2, 3]);
    assert.equal(l.cids().length, 4);
    const e = l.get(2);
    assert.ok(e);
    assert.equal(e.cid.length, 8);
    assert.deepEqual(e.token, statelessResetToken(nodeProvider, KEY, e.cid));
    assert.deepEqual(
      l.events.map((x) => x.kind),
      ['new', 'new', 'new'],
    );
  });

  it(`caps what it issues at ${MAX_ISSUED_CIDS}`, () => {
    const l = new LocalCids(nodeProvider, KEY, cid(1));
    l.setPeerLimit(1000);
    assert.equal(l.cids().length, MAX_ISSUED_CIDS);
  });

  it('issues nothing with a zero-length CID', () => {
    const l = new LocalCids(nodeProvider, KEY, new Uint8Array(0));
    l.setPeerLimit(8);
    assert.equal(l.cids().length, 1);
    assert.equal(l.pendingNew.length, 0);
  });

  it('replaces a retired CID (RFC 9000 §19.16)', () => {
    const l = new LocalCids(nodeProvider, KEY, cid(1));
    l.setPeerLimit(2);
    l.onRetire(0, l.get(1)!.cid);
    assert.equal(l.isActive(cid(1)), false);
    assert.deepEqual(l.pendingNew, [1, 2]);
    assert.deepEqual(
      l.events.map((e) => e.kind),
      ['new', 'retired', 'new'],
    );
  });

  it(`bounds what a peer retiring in a loop can make us issue (${MAX_TOTAL_CIDS} CIDs, ${MAX_CID_EVENTS} events)`, () => {
    const l = new LocalCids(nodeProvider, KEY, cid(1));
    l.setPeerLimit(8);
    const other = cid(99);
    for (let seq = 0; seq < 2 * MAX_TOTAL_CIDS; seq++) if (l.get(seq) !== undefined) l.onRetire(seq, other);
    assert.equal(l.pendingNew.length <= MAX_TOTAL_CIDS, true);
    assert.equal(l.events.length, MAX_CID_EVENTS);
    assert.equal(l.cids().length, 0);
  });

  it('retiring an unissued sequence number or the CID in use is a PROTOCOL_VIOLATION', () => {
    const l = new LocalCids(nodeProvider, KEY, cid(1));
    l.setPeerLimit(2);
    assert.equal(
      code(() => l.onRetire(5, cid(1))),
      TransportError.PROTOCOL_VIOLATION,
    );
    assert.equal(
      code(() => l.onRetire(0, cid(1))),
      TransportError.PROTOCOL_VIOLATION,
    );
  });
});

describe('RFC 9000 §5.1.2 consuming and retiring peer connection IDs', () => {
  it('stores new CIDs and retires those below Retire Prior To', () => {
    const p = new PeerCids(cid(9), 4);
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(2, 2));
    assert.deepEqual(p.pendingRetire, [0, 1]);
    assert.deepEqual(p.dcid, cid(102));
    assert.equal(p.activeCount, 1);
  });

  it('retires immediately a CID already below Retire Prior To', () => {
    const p = new PeerCids(cid(9), 4);
    p.onNewConnectionId(ncid(3, 3));
    p.onNewConnectionId(ncid(1));
    assert.deepEqual(p.pendingRetire, [0, 1]);
  });

  it('ignores a repeated frame; the same sequence with another CID is a PROTOCOL_VIOLATION', () => {
    const p = new PeerCids(cid(9), 4);
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(1));
    assert.equal(p.activeCount, 2);
    assert.equal(
      code(() => p.onNewConnectionId(ncid(1, 0, cid(55)))),
      TransportError.PROTOCOL_VIOLATION,
    );
  });

  it('more CIDs than our active_connection_id_limit is a CONNECTION_ID_LIMIT_ERROR', () => {
    const p = new PeerCids(cid(9), 2);
    p.onNewConnectionId(ncid(1));
    assert.equal(
      code(() => p.onNewConnectionId(ncid(2))),
      TransportError.CONNECTION_ID_LIMIT_ERROR,
    );
  });

  it('NEW_CONNECTION_ID toward a zero-length CID user is a PROTOCOL_VIOLATION (§19.15)', () => {
    const p = new PeerCids(new Uint8Array(0), 2);
    assert.equal(
      code(() => p.onNewConnectionId(ncid(1))),
      TransportError.PROTOCOL_VIOLATION,
    );
  });

  it('recognises a stateless reset token of an active peer CID (§10.3.1)', () => {
    const p = new PeerCids(cid(9), 4);
    p.setInitialToken(new Uint8Array(16).fill(0xaa));
    p.onNewConnectionId(ncid(1));
    assert.equal(p.matchesResetToken(new Uint8Array(16).fill(0xaa)), true);
    assert.equal(p.matchesResetToken(new Uint8Array(16).fill(1)), true);
    assert.equal(p.matchesResetToken(new Uint8Array(16).fill(2)), false);
  });

  it('rotates to an unused CID and retires the old one', () => {
    const p = new PeerCids(cid(9), 4);
    assert.equal(p.rotate(), false);
    p.onNewConnectionId(ncid(1));
    assert.equal(p.rotate(), true);
    assert.deepEqual(p.dcid, cid(101));
    assert.deepEqual(p.pendingRetire, [0]);
  });
});
