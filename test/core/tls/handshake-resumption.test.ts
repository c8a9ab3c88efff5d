import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import type { CryptoProvider } from '../../../core/crypto/provider.ts';
import { Writer } from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import { AlertDescription } from '../../../core/tls/alerts.ts';
import { ReplayFilter } from '../../../core/tls/index.ts';
import type { SessionTicket, TlsServerOptions } from '../../../core/tls/index.ts';
import {
  decodeClientHello,
  decodeServerHello,
  encodeNewSessionTicket,
  serializeHandshake,
} from '../../../core/tls/messages.ts';
import {
  assertAlert,
  assertComplete,
  drive,
  eventsOf,
  keysOf,
  messagesOf,
  ticketOf,
  tlsPair,
} from '../../helpers/tls-pair.ts';
import type { PairOptions, TlsPair } from '../../helpers/tls-pair.ts';

const TICKET_KEY = new Uint8Array(32).fill(7);
const OTHER_KEY = new Uint8Array(32).fill(8);

/** A first connection against a server with `server` options; returns its ticket. */
function firstTicket(server: Partial<TlsServerOptions> = {}, opts: PairOptions = {}): SessionTicket {
  const pair = tlsPair({ ...opts, server: { ticketKey: TICKET_KEY, enableEarlyData: true, ...server } });
  assertComplete(pair, drive(pair));
  return ticketOf(pair);
}

/** A second connection resuming with `ticket` (0-RTT asked for), one second later. */
function resume(ticket: SessionTicket, opts: PairOptions = {}): TlsPair {
  const pair = tlsPair({
    ...opts,
    now: opts.now ?? ticket.receivedAt + 1000,
    client: { ticket, enableEarlyData: true, ...opts.client },
    server: {
      ticketKey: TICKET_KEY,
      enableEarlyData: true,
      replayFilter: new ReplayFilter(),
      ...opts.server,
    },
  });
  assertComplete(pair, drive(pair));
  return pair;
}

function earlyEvent(pair: TlsPair, side: 'client' | 'server') {
  const evs = eventsOf(side === 'client' ? pair.clientEvents : pair.serverEvents, 'early_data');
  assert.equal(evs.length, 1, `${side}: one early_data event`);
  return evs[0];
}

describe('RFC 8446 §4.6.1 NewSessionTicket → SessionTicket', () => {
  it('gives the client everything it needs to resume', () => {
    const pair = tlsPair({ server: { ticketKey: TICKET_KEY, ticketLifetime: 3600, enableEarlyData: true } });
    assertComplete(pair, drive(pair));
    const t = ticketOf(pair);
    assert.equal(t.serverName, 'localhost');
    assert.equal(t.alpn, 'h3');
    assert.equal(t.cipherSuite, 0x1301);
    assert.equal(t.psk.length, 32);
    assert.equal(t.lifetime, 3600);
    assert.equal(t.receivedAt, pair.now);
    assert.equal(t.maxEarlyData, 0xffffffff); // RFC 9001 §4.6.1
    assert.ok(t.ticket.length > 0);
    assert.ok(Number.isInteger(t.ageAdd) && t.ageAdd >= 0 && t.ageAdd < 2 ** 32);
  });

  it('omits early_data from the ticket when the server does not accept 0-RTT', () => {
    const pair = tlsPair({ server: { ticketKey: TICKET_KEY } });
    assertComplete(pair, drive(pair));
    assert.equal(ticketOf(pair).maxEarlyData, 0);
    const nst = pair.wire.find((m) => m.data[0] === 4)!;
    assert.equal(nst.level, 'application');
  });

  it('issues no ticket when the lifetime is 0', () => {
    const pair = tlsPair({ server: { ticketLifetime: 0 } });
    assertComplete(pair, drive(pair));
    assert.equal(eventsOf(pair.clientEvents, 'ticket').length, 0);
  });

  it('derives a SHA-384 PSK on TLS_AES_256_GCM_SHA384', () => {
    const t = firstTicket({}, { client: { cipherSuites: [0x1302] } });
    assert.equal(t.cipherSuite, 0x1302);
    assert.equal(t.psk.length, 48);
    const pair = resume(t, { client: { cipherSuites: [0x1302] } });
    assert.equal(pair.client.resumed, true);
    assert.equal(pair.client.earlyData, 'accepted');
  });

  function deliverTicket(pair: TlsPair, maxEarlyDataSize: number | undefined, lifetime = 60) {
    const buf = new Uint8Array(256);
    const n = encodeNewSessionTicket(new Writer(buf), {
      kind: 'new_session_ticket',
      lifetime,
      ageAdd: 1,
      nonce: Uint8Array.of(1),
      ticket: Uint8Array.of(1, 2, 3),
      extensions: maxEarlyDataSize === undefined ? {} : { maxEarlyDataSize },
    });
    pair.client.receive('application', buf.subarray(0, n), pair.now);
  }

  it('treats max_early_data_size other than 0xffffffff as PROTOCOL_VIOLATION (RFC 9001 §4.6.1)', () => {
    const pair = tlsPair({ server: { ticketLifetime: 0 } });
    assertComplete(pair, drive(pair));
    assert.throws(
      () => deliverTicket(pair, 16384),
      (e: unknown) => e instanceof QuicError && e.code === TransportError.PROTOCOL_VIOLATION,
    );
  });

  it('caps a lifetime above 7 days (RFC 8446 §4.6.1) and accepts further tickets', () => {
    const pair = tlsPair({ server: { ticketLifetime: 0 } });
    assertComplete(pair, drive(pair));
    const tickets = (): SessionTicket[] => {
      const out: SessionTicket[] = [];
      for (let ev = pair.client.poll(); ev !== null; ev = pair.client.poll())
        if (ev.kind === 'ticket') out.push(ev.ticket);
      return out;
    };
    deliverTicket(pair, 0xffffffff, 1_000_000);
    deliverTicket(pair, undefined, 10);
    const [a, b] = tickets();
    assert.equal(a.lifetime, 604_800);
    assert.equal(a.maxEarlyData, 0xffffffff);
    assert.equal(b.lifetime, 10);
    assert.equal(b.maxEarlyData, 0);
  });
});

describe('RFC 8446 §2.2 resumption with a PSK (psk_dhe_ke)', () => {
  it('resumes: the PSK is accepted and no Certificate is sent', () => {
    const t = firstTicket({ enableEarlyData: false });
    const pair = resume(t, { client: { enableEarlyData: false } });
    assert.equal(pair.client.resumed, true);
    assert.equal(pair.server.resumed, true);
    assert.deepEqual(messagesOf(pair.serverEvents), [
      'received:client_hello',
      'sent:server_hello',
      'sent:encrypted_extensions',
      'sent:finished',
      'received:finished',
      'sent:new_session_ticket',
    ]);
    assert.equal(eventsOf(pair.clientEvents, 'peer_certificates').length, 0);
    const c = keysOf(pair.clientEvents);
    const s = keysOf(pair.serverEvents);
    assert.equal(c.get('application/write'), s.get('application/read'));
    assert.equal(c.get('application/read'), s.get('application/write'));
    assert.equal(c.has('early/write'), false);
    assert.equal(pair.client.earlyData, 'not_offered');
    // The resumed connection issues a fresh ticket that resumes again.
    const again = resume(ticketOf(pair), { client: { enableEarlyData: false } });
    assert.equal(again.server.resumed, true);
  });

  it('still uses (EC)DHE: the ServerHello carries a key_share (RFC 8446 §4.2.9)', () => {
    const pair = resume(firstTicket());
    const ch = decodeClientHello(pair.wire[0].data.subarray(4));
    assert.deepEqual(ch.extensions.pskKeyExchangeModes, [1]);
    assert.equal(ch.extensions.preSharedKey?.identities.length, 1);
    assert.equal(pair.client.group, 'x25519');
  });

  it('falls back to a full handshake for a ticket sealed under another ticket key', () => {
    const t = firstTicket();
    const pair = resume(t, { server: { ticketKey: OTHER_KEY } });
    assert.equal(pair.client.resumed, false);
    assert.equal(pair.server.resumed, false);
    assert.ok(messagesOf(pair.serverEvents).includes('sent:certificate'));
    assert.equal(earlyEvent(pair, 'client').status, 'rejected');
    assert.equal(earlyEvent(pair, 'server').reason, 'no PSK accepted');
  });

  it('RFC 9369 §5: a ticket issued in one QUIC version falls back to a full handshake in another', () => {
    const V1 = 0x00000001;
    const V2 = 0x6b3343cf;
    for (const [issued, used] of [
      [V1, V2],
      [V2, V1],
      [V1, undefined],
    ] as const) {
      const t = firstTicket({ quicVersion: issued });
      const pair = resume(t, { server: { quicVersion: used } });
      assert.equal(pair.server.resumed, false, `issued in ${issued}, offered in ${used}`);
      assert.equal(pair.client.resumed, false);
      assert.ok(messagesOf(pair.serverEvents).includes('sent:certificate'));
      assert.equal(earlyEvent(pair, 'server').reason, 'no PSK accepted');
      // The new connection's ticket belongs to its own version.
      const again = resume(ticketOf(pair), { server: { quicVersion: used } });
      assert.equal(again.server.resumed, true);
    }
    const same = resume(firstTicket({ quicVersion: V2 }), { server: { quicVersion: V2 } });
    assert.equal(same.server.resumed, true);
    assert.equal(earlyEvent(same, 'server').status, 'accepted');
  });

  it('falls back to a full handshake when the server finds the ticket expired', () => {
    const t = firstTicket({ ticketLifetime: 10 });
    // The client believes the ticket lives longer than the server sealed it for.
    const pair = resume({ ...t, lifetime: 3600 }, { now: t.receivedAt + 20_000 });
    assert.equal(pair.server.resumed, false);
    assert.equal(pair.client.resumed, false);
  });

  it('does not offer a ticket past its lifetime, nor to another server name', () => {
    const t = firstTicket({ ticketLifetime: 10 });
    const late = resume(t, { now: t.receivedAt + 11_000 });
    assert.equal(decodeClientHello(late.wire[0].data.subarray(4)).extensions.preSharedKey, undefined);
    const other = resume(t, { client: { serverName: '127.0.0.1' } });
    assert.equal(decodeClientHello(other.wire[0].data.subarray(4)).extensions.preSharedKey, undefined);
    assert.equal(other.client.resumed, false);
  });

  it('falls back to a full handshake when no offered suite has the PSK’s hash (RFC 8446 §4.2.11)', () => {
    const t = firstTicket({}, { client: { cipherSuites: [0x1302] } });
    const pair = resume(t, {
      client: { cipherSuites: [0x1302, 0x1301] },
      server: { cipherSuites: [0x1301] },
    });
    assert.equal(pair.server.resumed, false);
    assert.equal(pair.client.resumed, false);
    assert.equal(pair.client.cipherSuite, 0x1301);
  });

  it('client: a selected_identity out of range is illegal_parameter (RFC 8446 §4.2.11)', () => {
    const t = firstTicket();
    const pair = tlsPair({
      now: t.receivedAt + 1000,
      client: { ticket: t },
      server: { ticketKey: TICKET_KEY },
    });
    const r = drive(pair, (m) => {
      if (m.from !== 'server' || m.data[0] !== 2) return m.data;
      const sh = decodeServerHello(m.data.subarray(4));
      assert.equal(sh.kind, 'server_hello');
      return serializeHandshake({
        ...sh,
        extensions: { ...sh.extensions, preSharedKey: 1 },
        rawExtensions: undefined,
      });
    });
    assertAlert(r, 'client', AlertDescription.illegal_parameter, /PSK identity 1/);
  });

  it('aborts with decrypt_error on a PSK binder that does not verify (RFC 8446 §4.2.11)', () => {
    const t = firstTicket();
    const bad = { ...t, psk: t.psk.map((b) => b ^ 1) };
    const pair = tlsPair({
      now: t.receivedAt + 1000,
      client: { ticket: bad },
      server: { ticketKey: TICKET_KEY },
    });
    assertAlert(drive(pair), 'server', AlertDescription.decrypt_error, /binder/);
  });

  it('resumes after a HelloRetryRequest; 0-RTT is rejected (RFC 9001 §4.6.2)', () => {
    const t = firstTicket();
    const pair = resume(t, { server: { groups: ['secp256r1'] } });
    assert.equal(pair.server.resumed, true);
    assert.equal(pair.client.resumed, true);
    assert.ok(messagesOf(pair.clientEvents).includes('received:hello_retry_request'));
    assert.deepEqual(earlyEvent(pair, 'client'), {
      kind: 'early_data',
      status: 'rejected',
      reason: 'HelloRetryRequest',
    });
    assert.equal(earlyEvent(pair, 'server').status, 'rejected');
    const ch2 = decodeClientHello(pair.wire.filter((m) => m.from === 'client')[1].data.subarray(4));
    assert.equal(ch2.extensions.earlyData, undefined, 'no early_data after HRR (RFC 8446 §4.2.10)');
    assert.ok(ch2.extensions.preSharedKey !== undefined, 'the PSK is offered again with a new binder');
  });
});

describe('RFC 8446 §4.2.10, RFC 9001 §4.6 0-RTT', () => {
  const providers: [string, CryptoProvider | undefined][] = [
    ['node', undefined],
    ['noble', nobleProvider],
  ];
  for (const [name, provider] of providers) {
    it(`accepts 0-RTT: both sides derive the same early secret (${name})`, () => {
      const t = firstTicket({}, { provider });
      const pair = resume(t, { provider });
      assert.equal(pair.client.earlyData, 'accepted');
      assert.equal(pair.server.earlyData, 'accepted');
      assert.equal(earlyEvent(pair, 'client').status, 'accepted');
      assert.equal(earlyEvent(pair, 'server').status, 'accepted');
      const c = keysOf(pair.clientEvents);
      const s = keysOf(pair.serverEvents);
      assert.ok(c.has('early/write'));
      assert.equal(c.get('early/write'), s.get('early/read'));
      assert.equal(c.has('early/read'), false);
      assert.equal(s.has('early/write'), false);
      assert.ok(pair.clientKeylog.some((l) => l.startsWith('CLIENT_EARLY_TRAFFIC_SECRET ')));
      assert.deepEqual(
        pair.clientKeylog.find((l) => l.startsWith('CLIENT_EARLY')),
        pair.serverKeylog.find((l) => l.startsWith('CLIENT_EARLY')),
      );
    });
  }

  it('installs the client’s 0-RTT write key right after the ClientHello', () => {
    const t = firstTicket();
    const pair = tlsPair({ now: t.receivedAt + 10, client: { ticket: t, enableEarlyData: true } });
    pair.client.start(pair.now);
    const kinds: string[] = [];
    for (let ev = pair.client.poll(); ev !== null; ev = pair.client.poll()) {
      kinds.push(ev.kind === 'keys' ? `keys:${ev.level}/${ev.direction}` : ev.kind);
    }
    assert.deepEqual(kinds, ['message', 'handshake_data', 'keys:early/write']);
  });

  it('rejects 0-RTT when the server’s policy is off, and still resumes', () => {
    const pair = resume(firstTicket(), { server: { enableEarlyData: false } });
    assert.equal(pair.server.resumed, true);
    assert.equal(pair.client.earlyData, 'rejected');
    assert.equal(earlyEvent(pair, 'server').reason, 'disabled by the server');
    assert.equal(keysOf(pair.serverEvents).has('early/read'), false);
  });

  it('accepts a ticket for 0-RTT once: a replay is rejected (single-use tickets, RFC 8446 §8.1)', () => {
    const t = firstTicket();
    const filter = new ReplayFilter();
    const first = resume(t, { server: { replayFilter: filter } });
    assert.equal(first.server.earlyData, 'accepted');
    const second = resume(t, { server: { replayFilter: filter } });
    assert.equal(second.server.resumed, true, 'the PSK itself still resumes');
    assert.equal(second.server.earlyData, 'rejected');
    assert.equal(second.client.earlyData, 'rejected');
    assert.equal(earlyEvent(second, 'server').reason, 'replayed ticket');
    assert.equal(filter.size, 1);
  });

  it('rejects 0-RTT when the server now selects another ALPN protocol', () => {
    const t = firstTicket();
    const pair = resume(t, {
      client: { alpnProtocols: ['h3', 'hq-interop'] },
      server: { alpnProtocols: ['hq-interop', 'h3'] },
    });
    assert.equal(pair.client.alpn, 'hq-interop');
    assert.equal(pair.server.earlyData, 'rejected');
    assert.equal(pair.client.earlyData, 'rejected');
    assert.match(earlyEvent(pair, 'server').reason ?? '', /ALPN/);
  });

  it('does not offer 0-RTT when the client no longer offers the ticket’s ALPN', () => {
    const pair = resume(firstTicket(), {
      client: { alpnProtocols: ['hq-interop'] },
      server: { alpnProtocols: ['hq-interop', 'h3'] },
    });
    assert.equal(pair.client.earlyData, 'not_offered');
    assert.equal(pair.client.resumed, true);
  });

  it('rejects 0-RTT when the ticket did not allow it, or the client did not ask', () => {
    const noEarly = resume(firstTicket({ enableEarlyData: false }));
    assert.equal(
      noEarly.client.earlyData,
      'not_offered',
      'the client does not offer 0-RTT without 0xffffffff',
    );
    const notAsked = resume(firstTicket(), { client: { enableEarlyData: false } });
    assert.equal(notAsked.client.earlyData, 'not_offered');
    assert.equal(notAsked.server.earlyData, 'not_offered');
  });

  it('rejects 0-RTT when the ticket age disagrees by more than the window (RFC 8446 §8.3)', () => {
    const t = firstTicket();
    // The client thinks it received the ticket 30 s later than it did.
    const pair = resume({ ...t, receivedAt: t.receivedAt + 30_000 }, { now: t.receivedAt + 31_000 });
    assert.equal(pair.server.resumed, true);
    assert.equal(earlyEvent(pair, 'server').reason, 'ticket age out of window');
  });

  it('rejects 0-RTT when acceptEarlyData refuses the ticket’s app data (RFC 9001 §4.6.3)', () => {
    const appData = Uint8Array.of(9, 9, 9);
    const seen: Uint8Array[] = [];
    const t = firstTicket({ ticketAppData: appData });
    const pair = resume(t, {
      server: {
        acceptEarlyData: (d) => {
          seen.push(d);
          return false;
        },
      },
    });
    assert.deepEqual(seen, [appData]);
    assert.equal(pair.server.earlyData, 'rejected');
    const ok = resume(t, { server: { acceptEarlyData: (d) => d.length === 3 } });
    assert.equal(ok.server.earlyData, 'accepted');
  });

  it('rejects 0-RTT when the server selects another cipher suite than the ticket’s', () => {
    const t = firstTicket({ cipherSuites: [0x1303] }, { client: { cipherSuites: [0x1303, 0x1301] } });
    assert.equal(t.cipherSuite, 0x1303);
    // Same hash (SHA-256): the PSK resumes, but 0-RTT needs the same suite.
    const pair = resume(t, {
      client: { cipherSuites: [0x1303, 0x1301] },
      server: { cipherSuites: [0x1301] },
    });
    assert.equal(pair.server.resumed, true);
    assert.equal(pair.server.cipherSuite, 0x1301);
    assert.equal(pair.server.earlyData, 'rejected');
  });
});
