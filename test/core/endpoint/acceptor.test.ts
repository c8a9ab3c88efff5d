import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeProvider } from '../../../core/crypto/index.ts';
import { verifyRetry } from '../../../core/crypto/retry.ts';
import { Acceptor } from '../../../core/endpoint/acceptor.ts';
import { ResponseRateLimiter, statelessResetToken } from '../../../core/endpoint/stateless-reset.ts';
import { TokenKey } from '../../../core/endpoint/token.ts';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { Writer } from '../../../core/wire/buffer.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { parseDatagramRouting, parseHeader } from '../../../core/wire/packet.ts';
import {
  patchLength,
  statelessResetTokenCandidate,
  writeLongHeader,
} from '../../../core/wire/packet-write.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';
import { CLIENT_ADDR, Link, MiniServer, testConfigs } from './mini-server.ts';

const RESET_KEY = new Uint8Array(32).fill(0x42);
const TOKEN_KEY = new TokenKey(new Uint8Array(32).fill(0x17));

function server(
  options: { retry?: boolean; limiter?: ResponseRateLimiter; version?: number; accepts?: number[] } = {},
) {
  const { accepts, ...rest } = options;
  const { client, server: serverConfig } = testConfigs(options.version);
  if (accepts !== undefined) serverConfig.setPreferredVersions(accepts);
  const s = new MiniServer(serverConfig, { statelessResetKey: RESET_KEY, tokenKey: TOKEN_KEY, ...rest });
  return { s, clientConfig: client };
}

const NOW = 1_700_000_000_000;

/**
 * A 1200-byte datagram holding a client Initial's header (routing fields only: the Acceptor
 * decides on them without decrypting), of `version`, to `dcid`, carrying `token`.
 */
function initialDatagram(version: number, dcid: Uint8Array, token: Uint8Array, size = 1200): Uint8Array {
  const d = new Uint8Array(size);
  const w = new Writer(d);
  const pnOffset = writeLongHeader(w, {
    type: 'initial',
    version,
    dcid,
    scid: new Uint8Array(8).fill(0xc1),
    token,
    pnLength: 1,
    pn: 0,
    payloadLength: 0,
  });
  patchLength(d, pnOffset - 2, size - pnOffset);
  return d;
}

function decideOn(s: MiniServer, d: Uint8Array, now = NOW) {
  return s.acceptor.decide(d, parseDatagramRouting(d, 8), CLIENT_ADDR, now, new Uint8Array(1500), true);
}

function established(link: Link): boolean {
  return (
    link.client.isEstablished() &&
    link.server.connections.length === 1 &&
    link.server.connections[0].isEstablished()
  );
}

describe('RFC 9000 §5.2.2 a server accepting client Initials', () => {
  it('creates a connection for a valid Initial and completes the handshake', () => {
    const { s, clientConfig } = server();
    const link = new Link(s, clientConfig);
    assert.equal(
      link.run(() => established(link)),
      true,
    );
    const d = s.decisions[0];
    assert.ok(d.kind === 'accept');
    assert.equal(d.scid.length, 8);
    assert.equal(d.odcid, null);
    assert.equal(d.addressValidated, false);
    assert.equal(d.token, 'none');
    assert.equal(s.decisions.length, 1, 'later datagrams are routed by CID');
  });

  it('§10.3.2: the connection advertises the reset token the endpoint recomputes from its key', () => {
    const { s, clientConfig } = server();
    const link = new Link(s, clientConfig);
    link.run(() => established(link));
    link.run(); // let NEW_CONNECTION_ID frames arrive
    const conn = s.connections[0];
    const params = link.client.peerTransportParameters();
    assert.ok(params !== null && params.statelessResetToken !== null);
    assert.deepEqual(
      params.statelessResetToken,
      statelessResetToken(nodeProvider, RESET_KEY, conn.sourceIds()[0]),
    );
  });

  it('§14.1: drops an Initial in a datagram under 1200 bytes', () => {
    const { s, clientConfig } = server();
    const link = new Link(s, clientConfig);
    const [first] = link.clientDatagrams();
    const r = parseDatagramRouting(first, 8);
    const d = s.acceptor.decide(
      first.subarray(0, 1199),
      r,
      CLIENT_ADDR,
      link.now,
      new Uint8Array(1500),
      true,
    );
    assert.deepEqual(d, { kind: 'drop', reason: 'initial_too_small' });
  });

  it('§5.2.2: refuses with CONNECTION_REFUSED in an Initial when it admits no more connections', () => {
    const { s, clientConfig } = server();
    s.admit = false;
    const link = new Link(s, clientConfig);
    link.run(() => link.client.isClosed() || link.client.isDraining());
    assert.equal(s.decisions[0].kind, 'respond');
    assert.ok(s.decisions[0].kind === 'respond' && s.decisions[0].packet === 'connection_refused');
    assert.equal(s.connections.length, 0);
    assert.deepEqual(link.client.peerError(), {
      isApp: false,
      code: TransportError.CONNECTION_REFUSED,
      reason: 'server busy',
    });
  });

  it('§5.2.2: drops Handshake and 0-RTT packets and Version Negotiation for no connection', () => {
    const { s } = server();
    const out = new Uint8Array(1500);
    for (const [firstByte, version, reason] of [
      [0xe0, QUIC_VERSION_1, 'unknown_connection'], // Handshake
      [0xd0, QUIC_VERSION_1, 'unknown_connection'], // 0-RTT
      [0xc0, 0, 'version_negotiation'],
    ] as const) {
      const d = new Uint8Array(1200);
      d[0] = firstByte;
      new DataView(d.buffer).setUint32(1, version);
      d[5] = 8;
      d[14] = 0;
      d[15] = version === 0 ? 0 : 0x44; // length varint
      d[16] = 0xb0;
      const r = parseDatagramRouting(d, 8);
      assert.deepEqual(s.acceptor.decide(d, r, CLIENT_ADDR, 0, out, true), { kind: 'drop', reason });
    }
  });
});

describe('RFC 9000 §8.1.2 address validation with Retry', () => {
  it('sends a verifiable Retry, then accepts the Initial carrying its token with the ODCID', () => {
    const { s, clientConfig } = server({ retry: true });
    const link = new Link(s, clientConfig);
    const [first] = link.clientDatagrams();
    const odcid = parseHeader(first, 0, 8).dcid.slice();
    link.now += 2;
    const [retry] = s.receive(first, CLIENT_ADDR, link.now);
    assert.ok(s.decisions[0].kind === 'respond' && s.decisions[0].packet === 'retry');
    const h = parseHeader(retry, 0, 8);
    assert.ok(h.type === 'retry');
    assert.equal(verifyRetry(nodeProvider, QUIC_VERSION_1, odcid, retry), true);
    link.client.recv(retry.slice(), { from: { address: '192.0.2.2', port: 443 }, to: CLIENT_ADDR }, link.now);
    assert.equal(
      link.run(() => established(link)),
      true,
    );
    const d = s.decisions[1];
    assert.ok(d.kind === 'accept');
    assert.deepEqual(d.odcid, odcid);
    assert.deepEqual(d.scid, h.scid);
    assert.equal(d.addressValidated, true);
    assert.equal(link.client.stats().retrySeen, true);
    // §7.3: the client checked original_destination_connection_id and retry_source_connection_id.
    assert.deepEqual(link.client.peerTransportParameters()?.retrySourceConnectionId, h.scid);
  });

  it('closes with INVALID_TOKEN when the Retry token is tampered with', () => {
    const { s, clientConfig } = server({ retry: true });
    const link = new Link(s, clientConfig);
    const [first] = link.clientDatagrams();
    const [retry] = s.receive(first, CLIENT_ADDR, link.now);
    link.client.recv(retry.slice(), { from: { address: '192.0.2.2', port: 443 }, to: CLIENT_ADDR }, link.now);
    const [second] = link.clientDatagrams();
    const r = parseDatagramRouting(second, 8);
    second[r.tokenOffset + 20] ^= 1;
    const answers = s.receive(second, CLIENT_ADDR, link.now);
    assert.ok(s.decisions[1].kind === 'respond' && s.decisions[1].packet === 'invalid_token');
    link.client.recv(answers[0], { from: { address: '192.0.2.2', port: 443 }, to: CLIENT_ADDR }, link.now);
    assert.equal(link.client.peerError()?.code, TransportError.INVALID_TOKEN);
  });

  it('closes with INVALID_TOKEN when the Retry token comes from another address', () => {
    const { s, clientConfig } = server({ retry: true });
    const link = new Link(s, clientConfig);
    const [first] = link.clientDatagrams();
    const [retry] = s.receive(first, CLIENT_ADDR, link.now);
    link.client.recv(retry.slice(), { from: { address: '192.0.2.2', port: 443 }, to: CLIENT_ADDR }, link.now);
    const [second] = link.clientDatagrams();
    s.receive(second, { address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 }, link.now);
    assert.ok(s.decisions[1].kind === 'respond' && s.decisions[1].packet === 'invalid_token');
  });
});

describe('RFC 9000 §8.1.3 NEW_TOKEN tokens at the server', () => {
  it('a valid NEW_TOKEN token skips the Retry and validates the address, once', () => {
    const { s, clientConfig } = server({ retry: true });
    const token = TOKEN_KEY.mintNewToken({ clientAddress: CLIENT_ADDR, now: 1_700_000_000_000 - 60_000 });
    const link = new Link(s, clientConfig, { token });
    assert.equal(
      link.run(() => established(link)),
      true,
    );
    const d = s.decisions[0];
    assert.ok(d.kind === 'accept' && d.token === 'new_token' && d.addressValidated);
    // The same token again (a replay): treated as no token, so Retry.
    const again = new Link(s, clientConfig, { token });
    const [first] = again.clientDatagrams();
    s.receive(first, CLIENT_ADDR, again.now);
    assert.ok(s.decisions[1].kind === 'respond' && s.decisions[1].packet === 'retry');
  });

  it('an expired or foreign NEW_TOKEN token is ignored, not refused', () => {
    const { s, clientConfig } = server();
    const foreign = new TokenKey(new Uint8Array(32)).mintNewToken({
      clientAddress: CLIENT_ADDR,
      now: 1_700_000_000_000,
    });
    const link = new Link(s, clientConfig, { token: foreign });
    assert.equal(
      link.run(() => established(link)),
      true,
    );
    const d = s.decisions[0];
    assert.ok(d.kind === 'accept' && d.token === 'none' && !d.addressValidated);
    const expired = TOKEN_KEY.mintNewToken({
      clientAddress: CLIENT_ADDR,
      now: 1_700_000_000_000 - 25 * 3600 * 1000,
    });
    const link2 = new Link(s, clientConfig, { token: expired });
    const [first] = link2.clientDatagrams();
    s.receive(first, CLIENT_ADDR, link2.now);
    const d2 = s.decisions[1];
    assert.ok(d2.kind === 'accept' && d2.token === 'none' && !d2.addressValidated);
  });

  it('the server hands out a NEW_TOKEN the client keeps for its next connection', () => {
    const { s, clientConfig } = server();
    const link = new Link(s, clientConfig);
    link.run(() => established(link));
    s.connections[0].sendNewToken(TOKEN_KEY.mintNewToken({ clientAddress: CLIENT_ADDR, now: link.now }));
    link.run(() => link.client.newToken() !== null);
    const received = link.client.newToken();
    assert.ok(received !== null);
    assert.equal(TOKEN_KEY.validateToken(received, CLIENT_ADDR, link.now).valid, true);
  });
});

describe('RFC 9000 §10.3 stateless reset for unknown connection IDs', () => {
  it('answers a short header to an unknown CID with a smaller reset carrying its token', () => {
    const { s } = server();
    const d = new Uint8Array(100);
    d[0] = 0x41;
    d.set([1, 2, 3, 4, 5, 6, 7, 8], 1);
    const [reset] = s.receive(d, CLIENT_ADDR, 0);
    assert.ok(reset.length < d.length && reset.length >= 21);
    assert.equal(reset[0] & 0xc0, 0x40);
    assert.deepEqual(
      statelessResetTokenCandidate(reset),
      statelessResetToken(nodeProvider, RESET_KEY, d.subarray(1, 9)),
    );
  });

  it('a client whose server lost its state recognizes the reset and stops (§10.3.1)', () => {
    const { s, clientConfig } = server();
    const link = new Link(s, clientConfig);
    link.run(() => established(link));
    link.run();
    // The server "restarts": same keys, no connections.
    const { server: freshConfig } = testConfigs();
    const restarted = new MiniServer(freshConfig, { statelessResetKey: RESET_KEY, tokenKey: TOKEN_KEY });
    link.server = restarted;
    link.client.streamSend(0, new Uint8Array(100), false);
    link.run(() => link.client.isDraining() || link.client.isClosed());
    assert.ok(restarted.decisions.some((d) => d.kind === 'respond' && d.packet === 'stateless_reset'));
    assert.ok(link.client.isDraining() || link.client.isClosed());
  });

  it('§10.3.3: never answers a datagram of 21 bytes or fewer; rate limited', () => {
    const { s } = server({ limiter: new ResponseRateLimiter({ perPeerBurst: 3, perPeerRate: 0 }) });
    const small = new Uint8Array(21);
    small[0] = 0x40;
    assert.deepEqual(s.receive(small, CLIENT_ADDR, 0), []);
    assert.deepEqual(s.decisions.at(-1), { kind: 'drop', reason: 'reset_too_small' });
    const d = new Uint8Array(60).fill(0x41);
    const answered = [0, 1, 2, 3, 4].map(() => s.receive(d, CLIENT_ADDR, 0).length);
    assert.deepEqual(answered, [1, 1, 1, 0, 0]);
    assert.deepEqual(s.decisions.at(-1), { kind: 'drop', reason: 'rate_limited' });
  });

  it('resets are off without a key', () => {
    const a = new Acceptor({ cidLength: 8, statelessResetKey: null, tokenKey: null });
    const d = new Uint8Array(60).fill(0x41);
    assert.deepEqual(a.decide(d, parseDatagramRouting(d, 8), CLIENT_ADDR, 0, new Uint8Array(1500), true), {
      kind: 'drop',
      reason: 'reset_disabled',
    });
  });
});

describe('RFC 9000 §6.1 Version Negotiation at the server', () => {
  it('answers an unknown version in a 1200-byte datagram, drops a smaller one', () => {
    const { s } = server();
    const d = new Uint8Array(1200);
    d[0] = 0xc0;
    new DataView(d.buffer).setUint32(1, 0x1a2a3a4a);
    d[5] = 8;
    d[14] = 4;
    const [vn] = s.receive(d, CLIENT_ADDR, 0);
    const h = parseHeader(vn, 0, 0);
    assert.ok(h.type === 'version_negotiation' && h.versions.includes(QUIC_VERSION_1));
    assert.deepEqual(s.receive(d.subarray(0, 1199), CLIENT_ADDR, 0), []);
    assert.deepEqual(s.decisions.at(-1), { kind: 'drop', reason: 'unsupported_version_too_small' });
  });
});

describe('RFC 9000 §6.1 Version Negotiation for a version the server Config does not accept', () => {
  it('a v1 Initial to a server accepting only v2 gets VN listing v2; the client starts again in v2', () => {
    const { s, clientConfig } = server({ accepts: [QUIC_VERSION_2] });
    const link = new Link(s, clientConfig);
    assert.equal(
      link.run(() => established(link)),
      true,
    );
    const d = s.decisions[0];
    assert.ok(d.kind === 'respond' && d.packet === 'version_negotiation');
    const vn = parseHeader(link.toClient[0], 0, 0);
    assert.ok(vn.type === 'version_negotiation');
    assert.ok(vn.versions.includes(QUIC_VERSION_2));
    assert.equal(vn.versions.includes(QUIC_VERSION_1), false);
    assert.equal(s.connections.length, 1);
    assert.equal(link.client.stats().versionNegotiationSeen, true);
    assert.equal(link.client.stats().version, QUIC_VERSION_2);
    assert.equal(s.connections[0].stats().version, QUIC_VERSION_2);
  });

  it('a v2 Initial to a server accepting only v1 gets VN listing v1; a 1199-byte one is dropped', () => {
    const { s } = server({ accepts: [QUIC_VERSION_1] });
    const dcid = new Uint8Array(8).fill(0xdc);
    const d = decideOn(s, initialDatagram(QUIC_VERSION_2, dcid, new Uint8Array(0)));
    assert.ok(d.kind === 'respond' && d.packet === 'version_negotiation');
    const small = decideOn(s, initialDatagram(QUIC_VERSION_2, dcid, new Uint8Array(0), 1199));
    assert.deepEqual(small, { kind: 'drop', reason: 'unsupported_version_too_small' });
    // The version it accepts is accepted.
    assert.equal(decideOn(s, initialDatagram(QUIC_VERSION_1, dcid, new Uint8Array(0))).kind, 'accept');
  });
});

describe('RFC 9369 §5 tokens are specific to the QUIC version that issued them', () => {
  const dcid = new Uint8Array(8).fill(0xdc);

  it('a NEW_TOKEN token from a v1 connection is ignored in a v2 Initial, and vice versa', () => {
    for (const [issued, used] of [
      [QUIC_VERSION_1, QUIC_VERSION_2],
      [QUIC_VERSION_2, QUIC_VERSION_1],
    ]) {
      const { s } = server();
      const token = TOKEN_KEY.mintNewToken({ clientAddress: CLIENT_ADDR, now: NOW - 1000, version: issued });
      const other = decideOn(s, initialDatagram(used, dcid, token));
      assert.ok(other.kind === 'accept' && other.token === 'none' && !other.addressValidated);
      const same = decideOn(s, initialDatagram(issued, dcid, token));
      assert.ok(same.kind === 'accept' && same.token === 'new_token' && same.addressValidated);
      // With Retry on, the token of another version is as good as none: a Retry.
      const { s: retrying } = server({ retry: true });
      const r = decideOn(retrying, initialDatagram(used, dcid, token));
      assert.ok(r.kind === 'respond' && r.packet === 'retry');
    }
  });

  it('a Retry token from a v1 Retry in a v2 Initial closes with INVALID_TOKEN (RFC 9000 §8.1.2)', () => {
    const { s } = server({ retry: true });
    const token = TOKEN_KEY.mintRetryToken({
      odcid: new Uint8Array(8).fill(0x0d),
      retryScid: dcid,
      clientAddress: CLIENT_ADDR,
      now: NOW,
      version: QUIC_VERSION_1,
    });
    const v2 = decideOn(s, initialDatagram(QUIC_VERSION_2, dcid, token));
    assert.ok(v2.kind === 'respond' && v2.packet === 'invalid_token');
    const v1 = decideOn(s, initialDatagram(QUIC_VERSION_1, dcid, token));
    assert.ok(v1.kind === 'accept' && v1.token === 'retry' && v1.addressValidated);
  });

  it('end to end: the NEW_TOKEN of a v1 connection validates the next v1 connection, not a v2 one', () => {
    const { s, clientConfig } = server({ retry: true });
    const first = new Link(s, clientConfig);
    first.run(() => established(first));
    const conn = s.connections[0];
    conn.sendNewToken(
      TOKEN_KEY.mintNewToken({ clientAddress: CLIENT_ADDR, now: first.now, version: conn.stats().version }),
    );
    first.run(() => first.client.newToken() !== null);
    const token = first.client.newToken()!;
    const { client: v2Client } = testConfigs(QUIC_VERSION_2);
    const v2 = new Link(s, v2Client, { token });
    v2.now = first.now + 10;
    const [v2First] = v2.clientDatagrams();
    s.receive(v2First, CLIENT_ADDR, v2.now);
    assert.ok(s.decisions.at(-1)?.kind === 'respond', 'a Retry: the v1 token is ignored');
    const v1 = new Link(s, clientConfig, { token });
    v1.now = first.now + 20;
    assert.equal(
      v1.run(() => v1.client.isEstablished()),
      true,
    );
    const d = s.decisions.at(-1)!;
    assert.ok(d.kind === 'accept' && d.token === 'new_token' && d.addressValidated);
  });
});

describe('RFC 9000 §8.1 a NEW_TOKEN token validates the address: no 3x limit', () => {
  /**
   * The client's first flight reaches the server, nothing after it (no client Handshake
   * packet validates the address): returns the server's bytes sent and received once its
   * retransmissions (PTO) stop or 12 timers have fired.
   */
  function serverBudget(token: Uint8Array | null) {
    const { s, clientConfig } = server();
    const tracer = new MemoryTracer();
    s.config.setTracer(tracer);
    const link = new Link(s, clientConfig, token === null ? {} : { token });
    let now = link.now;
    for (const d of link.clientDatagrams()) s.receive(d, CLIENT_ADDR, now);
    const conn = s.connections[0];
    for (let i = 0; i < 12; i++) {
      const t = conn.timeout();
      if (t === null || conn.isClosed()) break;
      now = t;
      conn.onTimeout(now);
      s.drain(conn, now);
    }
    const st = conn.stats();
    return { sent: st.bytesSent, received: st.bytesReceived, tracer };
  }

  it('with a valid NEW_TOKEN token the server sends more than 3x what it received', () => {
    const token = TOKEN_KEY.mintNewToken({
      clientAddress: CLIENT_ADDR,
      now: NOW - 1000,
      version: QUIC_VERSION_1,
    });
    const v = serverBudget(token);
    assert.ok(v.sent > 3 * v.received, `sent ${v.sent} for ${v.received} received`);
    assert.ok(v.tracer.find('quic:connection_state_updated', (e) => e.new === 'peer_validated'));
    // Without a token, the same server stays within 3x (RFC 9000 §8.1).
    const n = serverBudget(null);
    assert.ok(n.sent <= 3 * n.received, `sent ${n.sent} for ${n.received} received`);
    assert.ok(n.sent < v.sent);
  });
});

describe('RFC 9369 QUIC v2 at the server', () => {
  it('Retry and the handshake work in v2', () => {
    const { s, clientConfig } = server({ retry: true, version: QUIC_VERSION_2 });
    const link = new Link(s, clientConfig);
    assert.equal(
      link.run(() => established(link)),
      true,
    );
    assert.ok(s.decisions[0].kind === 'respond' && s.decisions[0].packet === 'retry');
    const retry = parseHeader(link.toClient[0], 0, 8);
    assert.ok(retry.type === 'retry' && retry.version === QUIC_VERSION_2);
    assert.equal(link.client.stats().version, QUIC_VERSION_2);
  });

  it('the refusal is an Initial of v2 the client can read', () => {
    const { s, clientConfig } = server({ version: QUIC_VERSION_2 });
    s.admit = false;
    const link = new Link(s, clientConfig);
    link.run(() => link.client.peerError() !== null);
    assert.equal(link.client.peerError()?.code, TransportError.CONNECTION_REFUSED);
  });
});

describe('Acceptor options', () => {
  it('are checked: CID length 8..20, Retry needs a token key', () => {
    assert.throws(() => new Acceptor({ cidLength: 4, statelessResetKey: null, tokenKey: null }), RangeError);
    assert.throws(
      () => new Acceptor({ cidLength: 8, statelessResetKey: null, tokenKey: null, retry: true }),
      RangeError,
    );
  });
});
