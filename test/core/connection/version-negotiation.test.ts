import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Config } from '../../../core/connection/config.ts';
import { connect, connectionState } from '../../../core/connection/connection.ts';
import { validatePeerVersionInformation } from '../../../core/connection/version-negotiation.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import { parseHeader } from '../../../core/wire/packet.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';
import { testPki } from '../../helpers/certs.ts';
import { CLIENT_ADDR, Pair, SERVER_ADDR, configs } from './pair.ts';

const GREASE = 0x1a2a3a4a;

function isVnError(e: unknown): boolean {
  return e instanceof QuicError && e.code === TransportError.VERSION_NEGOTIATION_ERROR;
}

/** A fresh client connection state (its transport parameters are set, nothing sent). */
function clientState(tweak?: (c: Config) => void) {
  const c = new Config();
  c.setApplicationProtos(['test']);
  tweak?.(c);
  const conn = connect('localhost', new Uint8Array(8).fill(1), CLIENT_ADDR, SERVER_ADDR, c, 0);
  return { conn, s: connectionState(conn) };
}

describe('Config: QUIC versions (RFC 9368)', () => {
  it('defaults: the Config version first, then the other supported one', () => {
    assert.deepEqual(new Config().supportedVersions(), [QUIC_VERSION_1, QUIC_VERSION_2]);
    assert.deepEqual(new Config(QUIC_VERSION_2).supportedVersions(), [QUIC_VERSION_2, QUIC_VERSION_1]);
    const c = new Config();
    assert.equal(c.preferredVersions, null);
    assert.equal(c.originalVersion, null);
    c.setPreferredVersions([QUIC_VERSION_2]);
    assert.deepEqual(c.supportedVersions(), [QUIC_VERSION_2]);
  });

  it('rejects bad version lists and original versions', () => {
    const c = new Config();
    assert.throws(() => c.setPreferredVersions([]), RangeError);
    assert.throws(() => c.setPreferredVersions([GREASE]), RangeError);
    assert.throws(() => c.setPreferredVersions([QUIC_VERSION_1, QUIC_VERSION_1]), RangeError);
    assert.throws(() => c.setOriginalVersion(0), RangeError); // 0 is Version Negotiation
    assert.throws(() => c.setOriginalVersion(2 ** 32), RangeError);
    assert.throws(() => c.setOriginalVersion(1.5), TypeError);
    c.setOriginalVersion(GREASE);
    assert.equal(c.originalVersion, GREASE);
    c.setOriginalVersion(null);
    assert.equal(c.originalVersion, null);
  });
});

describe('RFC 9368 §3 version_information sent', () => {
  it('a client offers its compatible versions by preference, its chosen version included', () => {
    assert.deepEqual(clientState().conn.localTransportParameters()?.versionInformation, {
      chosenVersion: QUIC_VERSION_1,
      availableVersions: [QUIC_VERSION_1, QUIC_VERSION_2],
    });
    const v2first = clientState((c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]));
    assert.deepEqual(v2first.conn.localTransportParameters()?.versionInformation?.availableVersions, [
      QUIC_VERSION_2,
      QUIC_VERSION_1,
    ]);
    // Preferring only v2 while starting in v1: v1 must still be listed (RFC 9368 §3).
    const only2 = clientState((c) => c.setPreferredVersions([QUIC_VERSION_2]));
    assert.deepEqual(only2.conn.localTransportParameters()?.versionInformation?.availableVersions, [
      QUIC_VERSION_2,
      QUIC_VERSION_1,
    ]);
  });

  it('a first flight in a version we do not speak: that version on the wire, in v1 format', () => {
    const { conn } = clientState((c) => c.setOriginalVersion(GREASE));
    assert.deepEqual(conn.localTransportParameters()?.versionInformation, {
      chosenVersion: GREASE,
      availableVersions: [GREASE],
    });
    const buf = new Uint8Array(1500);
    const d = conn.send(buf, 0)!;
    assert.equal(d.length, 1200);
    assert.equal(new DataView(buf.buffer).getUint32(1), GREASE);
    assert.equal(parseHeader(buf.subarray(0, d.length), 0, 8).type, 'unsupported_version');
    assert.equal(conn.stats().version, GREASE);
    assert.equal(conn.stats().originalVersion, GREASE);
  });

  it('a server sends the version in use and the versions it accepts', () => {
    const p = new Pair(configs((_c, s) => s.setPreferredVersions([QUIC_VERSION_1])));
    p.handshake();
    assert.deepEqual(p.server!.localTransportParameters()?.versionInformation, {
      chosenVersion: QUIC_VERSION_1,
      availableVersions: [QUIC_VERSION_1],
    });
    assert.equal(p.server!.stats().originalVersion, QUIC_VERSION_1);
  });
});

describe('RFC 9368 §4 checks of the peer version_information', () => {
  it('client without Version Negotiation: the server may omit it; its choice must be offered and in use', () => {
    const { s } = clientState();
    validatePeerVersionInformation(s, null);
    validatePeerVersionInformation(s, { chosenVersion: QUIC_VERSION_1, availableVersions: [] });
    const only1 = clientState((c) => c.setPreferredVersions([QUIC_VERSION_1]));
    assert.throws(
      () =>
        validatePeerVersionInformation(only1.s, {
          chosenVersion: QUIC_VERSION_2,
          availableVersions: [QUIC_VERSION_2],
        }),
      (e) => isVnError(e) && /which we did not offer/.test((e as QuicError).reason),
    );
    // Offered, but the packets never switched to it: the long header Version was forged.
    assert.throws(
      () => validatePeerVersionInformation(s, { chosenVersion: QUIC_VERSION_2, availableVersions: [] }),
      (e) => isVnError(e) && /not the negotiated version/.test((e as QuicError).reason),
    );
  });

  it('client after Version Negotiation: missing (v1 special case), empty and downgrade', () => {
    const prefer2 = (c: Config) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]);
    const { s } = clientState(prefer2);
    s.vn.vnVersions = [QUIC_VERSION_1];
    s.vn.chosenVersion = QUIC_VERSION_1;
    // RFC 9368 §8: a v1 server without version_information counts as {v1, [v1]}.
    validatePeerVersionInformation(s, null);
    validatePeerVersionInformation(s, { chosenVersion: QUIC_VERSION_1, availableVersions: [QUIC_VERSION_1] });
    // Reserved versions in the server's list are never chosen (RFC 9368 §3).
    validatePeerVersionInformation(s, {
      chosenVersion: QUIC_VERSION_1,
      availableVersions: [0x4a5a6a7a, QUIC_VERSION_1],
    });
    assert.throws(
      () => validatePeerVersionInformation(s, { chosenVersion: QUIC_VERSION_1, availableVersions: [] }),
      (e) => isVnError(e) && /no available versions/.test((e as QuicError).reason),
    );
    assert.throws(
      () =>
        validatePeerVersionInformation(s, {
          chosenVersion: QUIC_VERSION_1,
          availableVersions: [QUIC_VERSION_1, QUIC_VERSION_2],
        }),
      (e) => isVnError(e) && /version downgrade/.test((e as QuicError).reason),
    );
    // The same list is fine for a client that prefers v1.
    const { s: s1 } = clientState();
    s1.vn.vnVersions = [QUIC_VERSION_1];
    validatePeerVersionInformation(s1, {
      chosenVersion: QUIC_VERSION_1,
      availableVersions: [QUIC_VERSION_1, QUIC_VERSION_2],
    });
    // After VN into v2, a missing version_information is an error (only v1 is special).
    const v2 = clientState((c) => {
      prefer2(c);
      c.setOriginalVersion(GREASE);
    });
    v2.s.vn.vnVersions = [QUIC_VERSION_2];
    v2.s.vn.chosenVersion = QUIC_VERSION_2;
    v2.s.version = QUIC_VERSION_2;
    assert.throws(() => validatePeerVersionInformation(v2.s, null), isVnError);
  });

  it("server: the client's chosen version must be its first flight's (or absent)", () => {
    const p = new Pair();
    p.handshake();
    const s = connectionState(p.server!);
    validatePeerVersionInformation(s, null);
    validatePeerVersionInformation(s, {
      chosenVersion: QUIC_VERSION_1,
      availableVersions: [QUIC_VERSION_1],
    });
    assert.throws(
      () =>
        validatePeerVersionInformation(s, {
          chosenVersion: QUIC_VERSION_2,
          availableVersions: [QUIC_VERSION_2],
        }),
      (e) => isVnError(e) && /is not its first flight's 0x00000001/.test((e as QuicError).reason),
    );
  });
});

describe('RFC 9369 §5 tickets and 0-RTT across versions', () => {
  /** A v1 connection with early data enabled; returns its ticket and the configs. */
  function firstConnection() {
    const cfg = configs((c, s) => {
      c.enableEarlyData();
      s.enableEarlyData();
      s.setPreferredVersions([QUIC_VERSION_1, QUIC_VERSION_2]);
    });
    const first = new Pair(cfg);
    first.handshake();
    first.runUntil(() => first.client.sessionTicket() !== null, 1000);
    const ticket = first.client.sessionTicket();
    assert.ok(ticket);
    return { cfg, ticket, now: first.now };
  }

  it('a ticket from a v1 connection is not used to start a v2 connection', () => {
    const { cfg, ticket, now } = firstConnection();
    const v2 = new Config(QUIC_VERSION_2);
    v2.setApplicationProtos(['test']);
    v2.setCaCertificates(testPki('ec-p256').root.pem);
    v2.enableEarlyData();
    v2.setPreferredVersions([QUIC_VERSION_2]); // no compatible switch back to v1
    const p = new Pair({ client: v2, server: cfg.server }, 'localhost', { sessionTicket: ticket }, now + 50);
    assert.equal(p.client.isInEarlyData(), false);
    p.handshake();
    assert.equal(p.client.isResumed(), false);
    assert.equal(p.client.stats().version, QUIC_VERSION_2);
    // The same ticket still resumes in v1.
    const again = new Pair(cfg, 'localhost', { sessionTicket: ticket }, p.now + 50);
    again.handshake();
    assert.equal(again.client.isResumed(), true);
  });

  /** A client Config of `version` trusting the test CA, speaking only that version. */
  function clientOf(version: number, early = true): Config {
    const c = new Config(version);
    c.setApplicationProtos(['test']);
    c.setCaCertificates(testPki('ec-p256').root.pem);
    if (early) c.enableEarlyData();
    c.setPreferredVersions([version]);
    return c;
  }

  it('a ticket remembers the QUIC version of the connection that issued it', () => {
    const { ticket } = firstConnection();
    assert.equal(ticket.quicVersion, QUIC_VERSION_1);
  });

  it('client: a ticket of another version is not offered (the server would have taken it)', () => {
    const { cfg, ticket, now } = firstConnection();
    // The server sealed v1 into the ticket; only the client's copy claims v2.
    const claimsV2 = { ...ticket, quicVersion: QUIC_VERSION_2 };
    const p = new Pair(cfg, 'localhost', { sessionTicket: claimsV2 }, now + 50);
    assert.equal(p.client.isInEarlyData(), false, 'no 0-RTT without a ticket');
    p.handshake();
    assert.equal(p.client.isResumed(), false);
    assert.equal(p.server!.isResumed(), false);
    assert.equal(p.client.stats().version, QUIC_VERSION_1);
  });

  it('server: a v1 ticket offered in a v2 connection falls back to a full handshake, and back', () => {
    const { cfg, ticket, now } = firstConnection();
    // A client that believes the v1 ticket is a v2 one offers it; the server checks the version.
    const p = new Pair(
      { client: clientOf(QUIC_VERSION_2), server: cfg.server },
      'localhost',
      { sessionTicket: { ...ticket, quicVersion: QUIC_VERSION_2 } },
      now + 50,
    );
    assert.equal(p.client.isInEarlyData(), true, 'the client offered the ticket with 0-RTT');
    p.handshake();
    assert.equal(p.client.stats().version, QUIC_VERSION_2);
    assert.equal(p.server!.isResumed(), false);
    assert.equal(p.client.isResumed(), false);
    assert.equal(p.client.tlsInfo().earlyData, 'rejected');
    p.runUntil(() => p.client.sessionTicket() !== null, 1000);
    const v2Ticket = p.client.sessionTicket()!;
    assert.equal(v2Ticket.quicVersion, QUIC_VERSION_2);
    // The v2 ticket, claimed to be v1, offered in v1: refused the same way.
    const back = new Pair(
      { client: clientOf(QUIC_VERSION_1), server: cfg.server },
      'localhost',
      { sessionTicket: { ...v2Ticket, quicVersion: QUIC_VERSION_1 } },
      p.now + 50,
    );
    assert.equal(back.client.isInEarlyData(), true);
    back.handshake();
    assert.equal(back.server!.isResumed(), false);
    // Honestly labelled, the v2 ticket resumes a v2 connection.
    const v2 = new Pair(
      { client: clientOf(QUIC_VERSION_2), server: cfg.server },
      'localhost',
      { sessionTicket: v2Ticket },
      back.now + 50,
    );
    v2.handshake();
    assert.equal(v2.server!.isResumed(), true);
  });

  it('after compatible negotiation v1 → v2 a v1 ticket is refused; the new ticket is a v2 one', () => {
    const { cfg, ticket, now } = firstConnection();
    cfg.server.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]);
    // No 0-RTT offered, so the server switches to v2 (RFC 9368 §2.3) and refuses the v1 ticket.
    const client = clientOf(QUIC_VERSION_1, false);
    client.setPreferredVersions([QUIC_VERSION_1, QUIC_VERSION_2]);
    const p = new Pair({ client, server: cfg.server }, 'localhost', { sessionTicket: ticket }, now + 50);
    p.handshake();
    assert.equal(p.server!.stats().compatibleVersionSwitch, true);
    assert.equal(p.client.stats().version, QUIC_VERSION_2);
    assert.equal(p.server!.isResumed(), false);
    assert.equal(p.client.isResumed(), false);
    p.runUntil(() => p.client.sessionTicket() !== ticket && p.client.sessionTicket() !== null, 1000);
    // RFC 9369 §5: "any resulting session ticket maps to the negotiated version".
    assert.equal(p.client.sessionTicket()?.quicVersion, QUIC_VERSION_2);
  });

  it('a server that prefers v2 does not switch a client offering 0-RTT (RFC 9368 §7.3)', () => {
    const { cfg, ticket, now } = firstConnection();
    cfg.server.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]);
    const p = new Pair(cfg, 'localhost', { sessionTicket: ticket }, now + 50);
    const msg = new TextEncoder().encode('early');
    assert.equal(p.client.streamSend(0, msg, true), msg.length);
    p.handshake();
    assert.equal(p.client.tlsInfo().earlyData, 'accepted');
    assert.equal(p.client.stats().version, QUIC_VERSION_1);
    assert.equal(p.server!.stats().compatibleVersionSwitch, false);
    // Without a ticket the same pair negotiates v2.
    const fresh = new Pair(cfg, 'localhost', {}, p.now + 50);
    fresh.handshake();
    assert.equal(fresh.client.stats().version, QUIC_VERSION_2);
    assert.equal(fresh.server!.stats().compatibleVersionSwitch, true);
  });
});
