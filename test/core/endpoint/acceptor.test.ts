import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeProvider } from '../../../core/crypto/index.ts';
import { verifyRetry } from '../../../core/crypto/retry.ts';
import { Acceptor } from '../../../core/endpoint/acceptor.ts';
import { ResponseRateLimiter, statelessResetToken } from '../../../core/endpoint/stateless-reset.ts';
import { TokenKey } from '../../../core/endpoint/token.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { parseDatagramRouting, parseHeader } from '../../../core/wire/packet.ts';
import { statelessResetTokenCandidate } from '../../../core/wire/packet-write.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';
import { CLIENT_ADDR, Link, MiniServer, testConfigs } from './mini-server.ts';

const RESET_KEY = new Uint8Array(32).fill(0x42);
const TOKEN_KEY = new TokenKey(new Uint8Array(32).fill(0x17));

function server(options: { retry?: boolean; limiter?: ResponseRateLimiter; version?: number } = {}) {
  const { client, server: serverConfig } = testConfigs(options.version);
  const s = new MiniServer(serverConfig, { statelessResetKey: RESET_KEY, tokenKey: TOKEN_KEY, ...options });
  return { s, clientConfig: client };
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
