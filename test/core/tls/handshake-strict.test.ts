import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import { AlertDescription as A, TlsAlert } from '../../../core/tls/alerts.ts';
import { ReplayFilter } from '../../../core/tls/index.ts';
import type { EncryptionLevel, SessionTicket } from '../../../core/tls/index.ts';
import { assertAlert, assertComplete, drive, eventsOf, ticketOf, tlsPair } from '../../helpers/tls-pair.ts';
import type { DriveResult, InFlight, PairOptions, Tamper, TlsPair } from '../../helpers/tls-pair.ts';

const TICKET_KEY = new Uint8Array(32).fill(3);
let ticket: SessionTicket | null = null;

/** A ticket allowing 0-RTT, from a first connection (made once). */
function theTicket(): SessionTicket {
  if (ticket === null) {
    const pair = tlsPair({ server: { ticketKey: TICKET_KEY, enableEarlyData: true } });
    assertComplete(pair, drive(pair));
    ticket = ticketOf(pair);
  }
  return ticket;
}

/** The handshakes every stage of which is exercised. */
const SCENARIOS: Record<string, () => PairOptions> = {
  full: () => ({}),
  HelloRetryRequest: () => ({ server: { groups: ['secp256r1'] } }),
  'resumption with 0-RTT': () => ({
    now: theTicket().receivedAt + 500,
    client: { ticket: theTicket(), enableEarlyData: true },
    server: { ticketKey: TICKET_KEY, enableEarlyData: true, replayFilter: new ReplayFilter() },
  }),
};

/** Runs a scenario with a hook that sees the messages by their global index. */
function run(
  name: string,
  hook?: (m: InFlight, i: number) => ReturnType<Tamper>,
): { pair: TlsPair; r: DriveResult } {
  const pair = tlsPair(SCENARIOS[name]());
  let i = 0;
  const r = drive(pair, hook ? (m) => hook(m, i++) : undefined);
  return { pair, r };
}

/** The messages of a clean run of each scenario: sender, level, type. */
function baseline(name: string): InFlight[] {
  const { pair, r } = run(name);
  assertComplete(pair, r);
  return pair.wire;
}

function withLength(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = body.length >> 16;
  out[2] = (body.length >> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}

const receiver = (m: InFlight) => (m.from === 'client' ? 'server' : 'client');

describe('every stage on both sides: truncated and garbage messages (RFC 8446 §6.2)', () => {
  for (const name of Object.keys(SCENARIOS)) {
    const wire = baseline(name);
    it(`${name}: each message with its last byte cut (length adjusted) is decode_error`, () => {
      wire.forEach((target, k) => {
        const { r } = run(name, (m, i) =>
          i === k ? withLength(m.data[0], m.data.subarray(4, m.data.length - 1)) : m.data,
        );
        assertAlert(r, receiver(target), A.decode_error);
      });
    });
    it(`${name}: each message with an empty body is decode_error`, () => {
      wire.forEach((target, k) => {
        const { r } = run(name, (m, i) => (i === k ? withLength(m.data[0], new Uint8Array(0)) : m.data));
        assertAlert(r, receiver(target), A.decode_error);
      });
    });
    it(`${name}: an unknown message type, KeyUpdate or EndOfEarlyData in place of each message is unexpected_message`, () => {
      for (const type of [99, 24, 5, 254]) {
        wire.forEach((target, k) => {
          const { r } = run(name, (m, i) => (i === k ? withLength(type, Uint8Array.of(0, 1, 2)) : m.data));
          assertAlert(r, receiver(target), A.unexpected_message);
        });
      }
    });
    it(`${name}: a message of a valid but wrong type at each stage is unexpected_message`, () => {
      wire.forEach((target, k) => {
        // Deliver the message that comes two later (from the same sender) in its place.
        const later = wire.slice(k + 1).find((m) => m.from === target.from && m.data[0] !== target.data[0]);
        if (later === undefined) return;
        const { r } = run(name, (m, i) => (i === k ? later.data : m.data));
        assert.equal(r.ok, false, `message ${k} replaced`);
        if (!r.ok) assert.equal(r.side, receiver(target));
        if (!r.ok && r.error instanceof TlsAlert && later.level === target.level) {
          assert.equal(r.error.alert, A.unexpected_message, r.error.message);
        }
      });
    });
    it(`${name}: each message at a level it does not belong to is unexpected_message`, () => {
      const levels: EncryptionLevel[] = ['initial', 'early', 'handshake', 'application'];
      wire.forEach((target, k) => {
        for (const level of levels) {
          if (level === target.level) continue;
          const { r } = run(name, (m, i) => (i === k ? [{ level, data: m.data }] : m.data));
          assertAlert(r, receiver(target), A.unexpected_message);
        }
      });
    });
    it(`${name}: each message doubled is unexpected_message (a NewSessionTicket may repeat)`, () => {
      wire.forEach((target, k) => {
        const { pair, r } = run(name, (m, i) => (i === k ? [m, m] : m.data));
        if (target.data[0] === 4) {
          assert.ok(r.ok);
          assert.equal(eventsOf(pair.clientEvents, 'ticket').length, 2);
        } else if (k === 0 && name === 'HelloRetryRequest') {
          // The copy of ClientHello1 is taken for ClientHello2, which lacks the requested share.
          assertAlert(r, 'server', A.illegal_parameter, /key share/);
        } else assertAlert(r, receiver(target), A.unexpected_message);
      });
    });
    it(`${name}: half of each message (then silence) is buffered without error`, () => {
      wire.forEach((target, k) => {
        const { pair, r } = run(name, (m, i) =>
          i === k ? m.data.subarray(0, m.data.length >> 1) : i > k ? null : m.data,
        );
        assert.ok(r.ok, r.ok ? '' : r.error.message);
        if (target.data[0] !== 4) assert.equal(pair.server.handshakeComplete, false);
      });
    });
  }
});

describe('RFC 9001 §4.1.3, §6, §8.3 levels and order', () => {
  it('client: handshake data before the ServerHello is unexpected_message', () => {
    const pair = tlsPair();
    pair.client.start(pair.now);
    assert.throws(
      () => pair.client.receive('handshake', withLength(8, Uint8Array.of(0, 0)), pair.now),
      isAlert(A.unexpected_message),
    );
  });

  it('client: data before start() is unexpected_message; start() twice is a caller error', () => {
    const pair = tlsPair();
    assert.throws(
      () => pair.client.receive('initial', withLength(2, new Uint8Array(40)), pair.now),
      isAlert(A.unexpected_message),
    );
    const other = tlsPair();
    other.client.start(other.now);
    assert.throws(() => other.client.start(other.now), /already started/);
  });

  it('server: CRYPTO data at the early (0-RTT) level is unexpected_message', () => {
    const pair = tlsPair();
    assert.throws(
      () => pair.server.receive('early', Uint8Array.of(1, 0, 0, 0), pair.now),
      isAlert(A.unexpected_message),
    );
  });

  it('client: data after the server Finished at the handshake level is unexpected_message (RFC 8446 §5.1)', () => {
    for (const extra of [Uint8Array.of(8, 0), withLength(8, Uint8Array.of(0, 0))]) {
      const r = drive(tlsPair(), (m) => {
        if (m.from !== 'server' || m.data[0] !== 20) return m.data;
        const out = new Uint8Array(m.data.length + extra.length);
        out.set(m.data);
        out.set(extra, m.data.length);
        return out;
      });
      assertAlert(r, 'client', A.unexpected_message);
    }
  });

  it('client: KeyUpdate after the handshake is unexpected_message (RFC 9001 §6)', () => {
    const pair = tlsPair();
    assertComplete(pair, drive(pair));
    assert.throws(
      () => pair.client.receive('application', withLength(24, Uint8Array.of(0)), pair.now),
      isAlert(A.unexpected_message),
    );
  });

  it('server: EndOfEarlyData after accepting 0-RTT is unexpected_message (RFC 9001 §8.3)', () => {
    const { r } = run('resumption with 0-RTT', (m) =>
      m.from === 'client' && m.data[0] === 20
        ? [{ level: 'handshake', data: withLength(5, new Uint8Array(0)) }]
        : m.data,
    );
    assertAlert(r, 'server', A.unexpected_message, /EndOfEarlyData/);
  });

  it('server: anything after the handshake is unexpected_message', () => {
    for (const level of ['application', 'handshake', 'initial'] as const) {
      const fresh = tlsPair();
      assertComplete(fresh, drive(fresh));
      assert.throws(
        () => fresh.server.receive(level, withLength(20, new Uint8Array(32)), fresh.now),
        isAlert(A.unexpected_message),
      );
    }
  });

  it('after an alert the session is dead: further input rethrows the same alert', () => {
    const pair = tlsPair({ client: { alpnProtocols: ['hq-interop'] } });
    const r = drive(pair);
    assertAlert(r, 'server', A.no_application_protocol);
    if (r.ok) return;
    assert.throws(
      () => pair.server.receive('initial', Uint8Array.of(1), pair.now),
      (e) => e === r.error,
    );
    assert.throws(
      () => pair.server.receive('handshake', Uint8Array.of(1), pair.now),
      (e) => e === r.error,
    );
    assert.throws(
      () => pair.server.start(pair.now),
      (e) => e === r.error,
    );
    assert.equal(pair.server.poll(), null);
    assert.equal(pair.server.handshakeComplete, false);
  });

  it('a message declaring more than the buffer bound is CRYPTO_BUFFER_EXCEEDED (RFC 9000 §7.5)', () => {
    const pair = tlsPair();
    const huge = Uint8Array.of(1, 0x10, 0, 0); // a ClientHello of 1 MiB
    assert.throws(
      () => pair.server.receive('initial', huge, pair.now),
      (e: unknown) => e instanceof QuicError && e.code === TransportError.CRYPTO_BUFFER_EXCEEDED,
    );
  });

  it('post-handshake messages are bounded more tightly (16 KiB)', () => {
    const pair = tlsPair();
    assertComplete(pair, drive(pair));
    assert.throws(
      () => pair.client.receive('application', Uint8Array.of(4, 0, 0x50, 0), pair.now),
      (e: unknown) => e instanceof QuicError && e.code === TransportError.CRYPTO_BUFFER_EXCEEDED,
    );
  });

  it('messages split across many receive calls, a byte at a time, complete the handshake', () => {
    const pair = tlsPair();
    const r = drive(pair, (m) => Array.from(m.data, (b) => ({ level: m.level, data: Uint8Array.of(b) })));
    assertComplete(pair, r);
  });
});

function isAlert(alert: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof TlsAlert, `not a TlsAlert: ${String(e)}`);
    assert.equal(e.alert, alert, e.message);
    return true;
  };
}

/**
 * What bad input may raise: a TlsAlert other than internal_error (which would be a bug we
 * caught), CRYPTO_BUFFER_EXCEEDED (RFC 9000 §7.5) or PROTOCOL_VIOLATION (RFC 9001 §4.6.1,
 * §8.4). Never an untyped throw (drive rethrows those, failing the property).
 */
function assertTypedFailure(r: DriveResult): void {
  if (r.ok) return;
  const e = r.error;
  if (e instanceof TlsAlert) {
    assert.notEqual(e.alert, A.internal_error, e.message);
    return;
  }
  assert.ok(
    e.code === TransportError.CRYPTO_BUFFER_EXCEEDED || e.code === TransportError.PROTOCOL_VIOLATION,
    `unexpected QuicError ${e.message}`,
  );
}

describe('property: bad input at any point only ever raises a typed QuicError', () => {
  const names = Object.keys(SCENARIOS);
  const lengths = new Map(names.map((n) => [n, baseline(n).length]));
  const types = [1, 2, 4, 5, 8, 11, 13, 15, 20, 24, 254];
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc
      .tuple(
        fc.oneof(fc.constantFrom(...types), fc.integer({ min: 0, max: 255 })),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([t, body]) => withLength(t, body)),
  );
  const level = fc.constantFrom<EncryptionLevel | null>(
    null,
    null,
    'initial',
    'early',
    'handshake',
    'application',
  );

  it('random byte strings injected before, after or instead of any message', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.nat(),
        fc.constantFrom('before', 'after', 'instead'),
        payload,
        level,
        (name, at, where, bytes, lvl) => {
          const k = at % lengths.get(name)!;
          const { r } = run(name, (m, i) => {
            if (i !== k) return m.data;
            const junk = { level: lvl ?? m.level, data: bytes };
            const orig = { level: m.level, data: m.data };
            return where === 'before' ? [junk, orig] : where === 'after' ? [orig, junk] : [junk];
          });
          assertTypedFailure(r);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random byte flips in any message', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (name, at, flips) => {
          const k = at % lengths.get(name)!;
          const { r } = run(name, (m, i) => {
            if (i !== k) return m.data;
            const copy = m.data.slice();
            for (const [pos, x] of flips) copy[pos % copy.length] ^= x;
            return copy;
          });
          assertTypedFailure(r);
        },
      ),
      { numRuns: 400 },
    );
  });
});
