import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import {
  ReplayFilter,
  decodeSessionTicket,
  encodeSessionTicket,
  openTicket,
  sealTicket,
} from '../../../core/tls/tickets.ts';
import type { TicketState } from '../../../core/tls/tickets.ts';
import type { SessionTicket } from '../../../core/tls/index.ts';
import { assertComplete, drive, ticketOf, tlsPair } from '../../helpers/tls-pair.ts';

const KEY = new Uint8Array(32).fill(0x42);

const STATE: TicketState = {
  cipherSuite: 0x1302,
  psk: new Uint8Array(48).fill(9),
  alpn: 'h3',
  createdAt: 1_735_689_600_123.5,
  lifetime: 86_400,
  ageAdd: 0xfedcba98,
  earlyData: true,
  appData: Uint8Array.of(1, 2, 3),
  quicVersion: 0x6b3343cf,
};

describe('RFC 8446 §4.6.1 server tickets (sealed, stateless)', () => {
  it('opens what it sealed, under the same key, with either provider', () => {
    const t = sealTicket(nodeProvider, KEY, STATE);
    const a = openTicket(nodeProvider, KEY, t);
    const b = openTicket(nobleProvider, KEY, t);
    assert.ok(a && b);
    assert.deepEqual(a.state, STATE);
    assert.deepEqual(b.state, STATE);
    assert.equal(a.id, b.id);
  });

  it('gives every ticket a different identifier', () => {
    const ids = new Set(
      Array.from(
        { length: 20 },
        () => openTicket(nodeProvider, KEY, sealTicket(nodeProvider, KEY, STATE))!.id,
      ),
    );
    assert.equal(ids.size, 20);
  });

  it('does not open under another key, tampered, truncated or of another format', () => {
    const t = sealTicket(nodeProvider, KEY, STATE);
    assert.equal(openTicket(nodeProvider, new Uint8Array(32).fill(1), t), null);
    for (let i = 0; i < t.length; i += 7) {
      const bad = t.slice();
      bad[i] ^= 0x80;
      assert.equal(openTicket(nodeProvider, KEY, bad), null, `byte ${i}`);
    }
    assert.equal(openTicket(nodeProvider, KEY, t.subarray(0, t.length - 1)), null);
    assert.equal(openTicket(nodeProvider, KEY, new Uint8Array(0)), null);
  });

  it('RFC 9369 §5: seals the QUIC version; a format 1 ticket (no version) no longer opens', () => {
    for (const quicVersion of [0, 1, 0x6b3343cf, 0xffffffff]) {
      const opened = openTicket(nodeProvider, KEY, sealTicket(nodeProvider, KEY, { ...STATE, quicVersion }));
      assert.equal(opened?.state.quicVersion, quicVersion);
    }
    const t = sealTicket(nodeProvider, KEY, STATE);
    assert.equal(t[0], 2, 'format 2');
    const old = t.slice();
    old[0] = 1;
    assert.equal(openTicket(nodeProvider, KEY, old), null);
  });

  it('property: arbitrary bytes never open and never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        assert.equal(openTicket(nodeProvider, KEY, b), null);
      }),
    );
  });
});

describe('SessionTicket as bytes (for a --session-file)', () => {
  it('round-trips a real ticket, transport parameters included', () => {
    const pair = tlsPair({ server: { enableEarlyData: true } });
    assertComplete(pair, drive(pair));
    const t: SessionTicket = { ...ticketOf(pair), transportParameters: Uint8Array.of(4, 3, 2, 1) };
    assert.deepEqual(decodeSessionTicket(encodeSessionTicket(t)), t);
  });

  it('round-trips a null server name and absent transport parameters', () => {
    const t: SessionTicket = {
      serverName: null,
      alpn: 'hq-interop',
      cipherSuite: 0x1303,
      psk: new Uint8Array(32),
      ticket: Uint8Array.of(1),
      lifetime: 0,
      ageAdd: 0,
      receivedAt: -5.25,
      maxEarlyData: 0,
    };
    const back = decodeSessionTicket(encodeSessionTicket(t));
    assert.deepEqual(back, t);
    assert.equal('transportParameters' in back, false);
  });

  it('property: every ticket round-trips', () => {
    const ticket = fc.record({
      serverName: fc.option(fc.domain(), { nil: null }),
      alpn: fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'a')),
      cipherSuite: fc.constantFrom(0x1301, 0x1302, 0x1303),
      psk: fc.uint8Array({ minLength: 32, maxLength: 48 }),
      ticket: fc.uint8Array({ minLength: 1, maxLength: 300 }),
      lifetime: fc.integer({ min: 0, max: 604_800 }),
      ageAdd: fc.integer({ min: 0, max: 0xffffffff }),
      receivedAt: fc.double({ noNaN: true, noDefaultInfinity: true }),
      maxEarlyData: fc.constantFrom(0, 0xffffffff),
      transportParameters: fc.option(fc.uint8Array({ maxLength: 100 }), { nil: undefined }),
      quicVersion: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: undefined }),
    });
    fc.assert(
      fc.property(ticket, (t) => {
        const clean = { ...t } as SessionTicket;
        if (t.transportParameters === undefined)
          delete (clean as { transportParameters?: Uint8Array }).transportParameters;
        if (t.quicVersion === undefined) delete (clean as { quicVersion?: number }).quicVersion;
        assert.deepEqual(decodeSessionTicket(encodeSessionTicket(clean)), clean);
      }),
    );
  });

  it('RFC 9369 §5: format 2 keeps the QUIC version; format 1 still decodes, its version unknown', () => {
    const t: SessionTicket = {
      serverName: 'localhost',
      alpn: 'h3',
      cipherSuite: 0x1301,
      psk: new Uint8Array(32).fill(5),
      ticket: Uint8Array.of(1, 2),
      lifetime: 10,
      ageAdd: 1,
      receivedAt: 0,
      maxEarlyData: 0,
      quicVersion: 0x6b3343cf,
    };
    const bytes = encodeSessionTicket(t);
    assert.equal(bytes[4], 2, 'format 2');
    assert.equal(decodeSessionTicket(bytes).quicVersion, 0x6b3343cf);
    // Format 1 is format 2 without the version at the end.
    const v1 = bytes.slice(0, bytes.length - 4);
    v1[4] = 1;
    const back = decodeSessionTicket(v1);
    assert.equal('quicVersion' in back, false);
    const { quicVersion: _v, ...rest } = t;
    assert.deepEqual(back, rest);
  });

  it('rejects other files, other formats and truncated tickets with a RangeError', () => {
    const good = encodeSessionTicket({
      serverName: 'localhost',
      alpn: 'h3',
      cipherSuite: 0x1301,
      psk: new Uint8Array(32),
      ticket: Uint8Array.of(1, 2),
      lifetime: 10,
      ageAdd: 1,
      receivedAt: 0,
      maxEarlyData: 0,
    });
    assert.throws(() => decodeSessionTicket(new TextEncoder().encode('{"json":true}')), RangeError);
    const v3 = good.slice();
    v3[4] = 3;
    assert.throws(() => decodeSessionTicket(v3), /format 3/);
    for (let n = 0; n < good.length; n++)
      assert.throws(() => decodeSessionTicket(good.subarray(0, n)), RangeError);
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    assert.throws(() => decodeSessionTicket(longer), /trailing/);
  });
});

describe('RFC 8446 §8.1 ReplayFilter (single-use tickets for 0-RTT)', () => {
  it('accepts an identifier once until it expires', () => {
    const f = new ReplayFilter();
    assert.equal(f.checkAndRecord('a', 1000, 0), true);
    assert.equal(f.checkAndRecord('a', 1000, 10), false);
    assert.equal(f.checkAndRecord('b', 1000, 10), true);
    assert.equal(f.checkAndRecord('a', 5000, 1000), true, 'expired entries are forgotten');
    assert.equal(f.size, 2);
  });

  it('is bounded: when full of live identifiers it refuses (fails closed)', () => {
    const f = new ReplayFilter({ capacity: 3 });
    for (const id of ['a', 'b', 'c']) assert.equal(f.checkAndRecord(id, 100, 0), true);
    assert.equal(f.checkAndRecord('d', 100, 50), false);
    assert.equal(f.size, 3);
    // Once the older tickets expire, room is made.
    assert.equal(f.checkAndRecord('d', 300, 100), true);
    assert.equal(f.size, 1);
  });

  it('purges and clears', () => {
    const f = new ReplayFilter();
    f.checkAndRecord('a', 10, 0);
    f.checkAndRecord('b', 20, 0);
    f.purge(15);
    assert.equal(f.size, 1);
    f.clear();
    assert.equal(f.size, 0);
    assert.throws(() => new ReplayFilter({ capacity: 0 }), RangeError);
  });

  it('is shared by the server sessions given it', () => {
    const filter = new ReplayFilter();
    const first = tlsPair({ server: { ticketKey: KEY, enableEarlyData: true } });
    assertComplete(first, drive(first));
    const ticket = ticketOf(first);
    const statuses = [0, 1, 2].map(() => {
      const p = tlsPair({
        now: ticket.receivedAt + 100,
        client: { ticket, enableEarlyData: true },
        server: { ticketKey: KEY, enableEarlyData: true, replayFilter: filter },
      });
      assertComplete(p, drive(p));
      return p.server.earlyData;
    });
    assert.deepEqual(statuses, ['accepted', 'rejected', 'rejected']);
  });
});
