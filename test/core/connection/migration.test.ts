import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCids, PeerCids } from '../../../core/connection/cid.ts';
import { Config } from '../../../core/connection/config.ts';
import { choosePreferredAddress } from '../../../core/connection/migration.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { bytesEqual } from '../../../core/wire/buffer.ts';
import type { NewConnectionIdFrame } from '../../../core/wire/frame-types.ts';
import type { PreferredAddress } from '../../../core/wire/transport-params.ts';

function ncid(seq: number, rpt = 0): NewConnectionIdFrame {
  return {
    type: 'new_connection_id',
    sequenceNumber: seq,
    retirePriorTo: rpt,
    connectionId: new Uint8Array(8).fill(seq + 100),
    statelessResetToken: new Uint8Array(16).fill(seq),
  };
}

/** Peer CIDs 0..n-1, current 0. */
function peerCids(n: number, limit = 8): PeerCids {
  const p = new PeerCids(new Uint8Array(8).fill(100), limit);
  for (let seq = 1; seq < n; seq++) p.onNewConnectionId(ncid(seq));
  return p;
}

describe('RFC 9000 §9.5 one peer CID per path (PeerCids reservations)', () => {
  it('reserve() hands out unused CIDs, lowest first, never the current or a reserved one', () => {
    const p = peerCids(4);
    assert.equal(p.spareCount, 3);
    assert.equal(p.reserve(), 1);
    assert.equal(p.reserve(), 2);
    assert.equal(p.spareCount, 1);
    assert.equal(p.reserve(), 3);
    assert.equal(p.reserve(), null);
    assert.equal(p.currentSeq, 0);
  });

  it('rotate() skips reserved CIDs', () => {
    const p = peerCids(3);
    assert.equal(p.reserve(), 1);
    assert.equal(p.rotate(), true);
    assert.equal(p.currentSeq, 2);
    assert.deepEqual(p.pendingRetire, [0]);
    assert.equal(p.rotate(), false, 'only the reserved one is left');
  });

  it('release() retires a CID that was used on the path, and frees one that was not', () => {
    const p = peerCids(3);
    const a = p.reserve()!;
    const b = p.reserve()!;
    p.release(a, true);
    assert.equal(p.cidOf(a), null);
    assert.deepEqual(p.pendingRetire, [a]);
    p.release(b, false);
    assert.ok(p.cidOf(b) !== null);
    assert.equal(p.reserve(), b, 'available again');
    p.release(99, true); // not reserved: nothing happens
    assert.deepEqual(p.pendingRetire, [a]);
  });

  it('switchTo() moves to a reserved CID, retiring the old one or keeping it reserved for the old path', () => {
    const p = peerCids(4);
    const seq = p.reserve()!;
    assert.equal(p.switchTo(seq, true), 0, 'the old CID stays, reserved');
    assert.ok(bytesEqual(p.dcid, new Uint8Array(8).fill(seq + 100)));
    assert.equal(p.pendingRetire.length, 0);
    assert.equal(p.reserve(), 2, 'the kept CID is not handed out');
    p.release(0, true);
    assert.deepEqual(p.pendingRetire, [0]);
    assert.equal(p.switchTo(3, false), null);
    assert.deepEqual(p.pendingRetire, [0, seq]);
    assert.equal(p.switchTo(3, false), null, 'already current: nothing happens');
    assert.equal(p.switchTo(42, false), null, 'unknown: nothing happens');
  });

  it('Retire Prior To retires reserved CIDs too, and moves the current one to an unreserved CID', () => {
    const p = peerCids(4);
    const reserved = p.reserve()!; // 1
    p.onNewConnectionId(ncid(4, 2)); // retires 0 and 1
    assert.equal(p.cidOf(reserved), null);
    assert.equal(p.currentSeq, 2);
    const q = peerCids(4);
    q.reserve(); // 1
    q.reserve(); // 2
    q.onNewConnectionId(ncid(4, 1)); // retires 0: the current moves to 3, the lowest unreserved
    assert.equal(q.currentSeq, 3);
  });
});

describe('RFC 9000 §5.1.1, §18.2 the preferred address CID (sequence number 1)', () => {
  it('issuePreferred() issues sequence 1 without NEW_CONNECTION_ID and reports it for routing', () => {
    const l = new LocalCids(nodeProvider, new Uint8Array(32).fill(7), new Uint8Array(8).fill(1));
    const e = l.issuePreferred()!;
    assert.equal(e.seq, 1);
    assert.equal(l.pendingNew.length, 0);
    assert.deepEqual(
      l.events.map((x) => [x.kind, x.sequenceNumber]),
      [['new', 1]],
    );
    assert.equal(l.issuePreferred(), e, 'idempotent');
    l.setPeerLimit(4);
    assert.deepEqual(l.pendingNew, [2, 3], 'the others follow; sequence 1 counts toward the limit');
    assert.ok(l.isActive(e.cid));
  });

  it('a zero-length CID cannot be offered (§18.2: the parameter needs one)', () => {
    const l = new LocalCids(nodeProvider, new Uint8Array(32).fill(7), new Uint8Array(0));
    assert.equal(l.issuePreferred(), null);
  });
});

describe('RFC 9000 §9.6 Config', () => {
  it('setPreferredAddress validates the families and ports', () => {
    const c = new Config();
    c.setPreferredAddress({ ipv4: { address: '192.0.2.1', port: 443 } });
    assert.deepEqual(c.preferredAddress, { ipv4: { address: '192.0.2.1', port: 443 }, ipv6: null });
    c.setPreferredAddress({ ipv6: { address: '2001:db8::1', port: 8443 } });
    assert.deepEqual(c.preferredAddress, { ipv4: null, ipv6: { address: '2001:db8::1', port: 8443 } });
    assert.throws(() => c.setPreferredAddress({ ipv4: { address: '2001:db8::1', port: 443 } }), RangeError);
    assert.throws(() => c.setPreferredAddress({ ipv6: { address: '192.0.2.1', port: 443 } }), RangeError);
    assert.throws(() => c.setPreferredAddress({ ipv4: { address: '192.0.2.1', port: 0 } }), RangeError);
    assert.throws(() => c.setPreferredAddress({ ipv4: { address: 'host', port: 1 } }), RangeError);
    assert.throws(() => c.setPreferredAddress({}), RangeError);
    assert.throws(() => c.setPreferredAddress({ ipv4: 'x' as never }), TypeError);
    c.setPreferredAddress(null);
    assert.equal(c.preferredAddress, null);
    assert.equal(c.usePreferredAddress, true);
    c.setUsePreferredAddress(false);
    assert.equal(c.usePreferredAddress, false);
    assert.throws(() => c.setUsePreferredAddress(1 as never), TypeError);
  });

  it('the client picks the offered address of its current family (§9.6.3); all-zero means not offered', () => {
    const pa: PreferredAddress = {
      ipv4Address: new Uint8Array([192, 0, 2, 7]),
      ipv4Port: 4433,
      ipv6Address: new Uint8Array(16),
      ipv6Port: 0,
      connectionId: new Uint8Array(8),
      statelessResetToken: new Uint8Array(16),
    };
    assert.deepEqual(choosePreferredAddress(pa, { address: '10.0.0.2', port: 443 }), {
      address: '192.0.2.7',
      port: 4433,
    });
    assert.equal(choosePreferredAddress(pa, { address: '2001:db8::2', port: 443 }), null);
    pa.ipv6Address[15] = 9;
    pa.ipv6Port = 8443;
    assert.deepEqual(choosePreferredAddress(pa, { address: '2001:db8::2', port: 443 }), {
      address: '::9',
      port: 8443,
    });
  });
});
