import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accept, connect, connectionState } from '../../../core/connection/connection.ts';
import { buildRetryPacket, TokenKey } from '../../../core/endpoint/index.ts';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { parseDatagramRouting, parseHeader } from '../../../core/wire/packet.ts';
import { buildVersionNegotiation } from '../../../core/wire/packet-write.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';
import { testPki } from '../../helpers/certs.ts';
import { CLIENT_ADDR, Pair, SERVER_ADDR, configs } from './pair.ts';

const BAD_CERTIFICATE = 0x100 + 42;
const NO_APPLICATION_PROTOCOL = 0x100 + 120;

describe('RFC 9001 §4 handshake over CRYPTO frames', () => {
  it('completes with the node provider, negotiates ALPN and verifies the chain against the test CA', () => {
    const p = new Pair();
    p.handshake();
    const server = p.server!;
    assert.equal(p.client.applicationProto(), 'test');
    assert.equal(server.applicationProto(), 'test');
    assert.equal(p.client.peerCertificateChain().length, 2);
    assert.equal(p.client.tlsInfo().cipherSuite, 'TLS_AES_128_GCM_SHA256');
    assert.equal(p.client.isResumed(), false);
    // RFC 9000 §7.2: the client switched to the server's SCID.
    assert.deepEqual(p.client.destinationId(), server.sourceId());
    assert.deepEqual(server.destinationId(), p.client.sourceId());
  });

  it('completes with the noble provider on both sides', () => {
    const p = new Pair(
      configs((c, s) => {
        c.setCryptoProvider('noble');
        s.setCryptoProvider('noble');
      }),
    );
    p.handshake();
    assert.equal(p.client.applicationProto(), 'test');
  });

  it('completes over QUIC v2 (RFC 9369)', () => {
    const cfg = configs();
    const client = new (cfg.client.constructor as typeof import('../../../core/connection/config.ts').Config)(
      QUIC_VERSION_2,
    );
    client.setApplicationProtos(['test']);
    client.setCaCertificates(testPki('ec-p256').root.pem);
    const p = new Pair({ client, server: cfg.server });
    p.handshake();
    assert.equal(p.client.stats().version, QUIC_VERSION_2);
    assert.equal(p.server!.stats().version, QUIC_VERSION_2);
  });

  it('confirms the handshake: HANDSHAKE_DONE, then Handshake keys are discarded (RFC 9001 §4.1.2, §4.9.2)', () => {
    const ct = new MemoryTracer();
    const p = new Pair(configs((c) => c.setTracer(ct)));
    p.handshake();
    p.settle();
    assert.ok(
      ct.find(
        'quic:packet_received',
        (d) => d.frames?.some((f) => f.frame_type === 'handshake_done') ?? false,
      ),
    );
    assert.ok(ct.find('quic:connection_state_updated', (d) => d.new === 'handshake_confirmed'));
    assert.ok(ct.find('quic:key_discarded', (d) => d.key_type === 'client_handshake_secret'));
    assert.ok(ct.find('quic:key_discarded', (d) => d.key_type === 'client_initial_secret'));
    assert.equal(connectionState(p.client).spaces[1].discarded, true);
    assert.equal(connectionState(p.server!).spaces[1].discarded, true);
  });

  it('pads every client datagram that carries an Initial to 1200 bytes (RFC 9000 §14.1)', () => {
    const ct = new MemoryTracer();
    const p = new Pair(configs((c) => c.setTracer(ct)));
    p.handshake();
    const sent = ct.entries('quic:udp_datagrams_sent');
    const initials = ct.entries('quic:packet_sent').filter((e) => e.data.header.packet_type === 'initial');
    assert.ok(initials.length >= 2);
    for (const e of sent.filter((x) => initials.some((i) => i.time === x.time)))
      assert.ok((e.data.raw?.[0].length ?? 0) >= 1200);
  });

  it('coalesces the server Initial and Handshake packets in one datagram (RFC 9000 §12.2)', () => {
    const p = new Pair();
    const buf = new Uint8Array(2000);
    const d = p.client.send(buf, p.now)!;
    const server = accept(new Uint8Array(8).fill(9), null, SERVER_ADDR, CLIENT_ADDR, p.serverConfig, p.now);
    server.recv(buf.slice(0, d.length), { from: CLIENT_ADDR, to: SERVER_ADDR }, p.now);
    const out = new Uint8Array(2000);
    const r = server.send(out, p.now)!;
    const first = parseHeader(out.subarray(0, r.length), 0, 8);
    assert.equal(first.type, 'initial');
    const second = parseHeader(out.subarray(0, r.length), first.end, 8);
    assert.equal(second.type, 'handshake');
  });

  it('a certificate for another name fails verification: CRYPTO_ERROR bad_certificate reaches the server', () => {
    const p = new Pair(configs(), 'example.org');
    p.runUntil(() => p.client.isClosed() && (p.server?.isClosed() ?? false), 10_000);
    assert.equal(p.client.localError()?.code, BAD_CERTIFICATE);
    assert.equal(p.server?.peerError()?.code, BAD_CERTIFICATE);
    assert.equal(p.client.isEstablished(), false);
  });

  it('verifyPeer(false) completes against an unknown CA', () => {
    const p = new Pair(
      configs((c) => {
        c.verifyPeer(false);
        c.setCaCertificates(testPki('ec-p256').unknownRoot.pem);
      }),
    );
    p.handshake();
  });

  it('no common ALPN: the server closes with no_application_protocol (RFC 9001 §8.1)', () => {
    const p = new Pair(configs((_c, s) => s.setApplicationProtos(['other'])));
    p.runUntil(() => p.client.isClosed(), 10_000);
    assert.equal(p.server?.localError()?.code, NO_APPLICATION_PROTOCOL);
    assert.equal(p.client.peerError()?.code, NO_APPLICATION_PROTOCOL);
  });

  it('checks initial_source_connection_id against the Initial SCID (RFC 9000 §7.3)', () => {
    const p = new Pair();
    p.flush();
    // Pretend the server's Initial came from another SCID than the one its parameters name.
    const c = connectionState(p.client);
    c.receivedFromServer = true;
    c.peerInitialScid = new Uint8Array(8).fill(0xee);
    p.runUntil(() => p.client.localError() !== null, 10_000);
    assert.equal(p.client.localError()?.code, TransportError.PROTOCOL_VIOLATION);
  });
});

describe('RFC 9001 §5.7 packets that arrive before their keys', () => {
  it('buffers a Handshake packet that overtakes the Initial carrying the ServerHello', () => {
    const ct = new MemoryTracer();
    const p = new Pair(configs((c) => c.setTracer(ct)));
    let held: Uint8Array | null = null;
    const real = p.deliverToClient.bind(p);
    p.deliverToClient = (d) => {
      // Hold back the server's first datagram (Initial + Handshake) until the next one has arrived.
      if (
        held === null &&
        p.delivered.toClient === 0 &&
        (d[0] & 0x80) !== 0 &&
        parseHeader(d, 0, 8).type === 'initial'
      ) {
        held = d;
        p.delivered.toClient++;
        return;
      }
      real(d);
      if (held !== null) {
        const h = held;
        held = new Uint8Array(0);
        if (h.length > 0) real(h);
      }
    };
    p.handshake();
    assert.ok(ct.find('quic:packet_buffered', (d) => d.trigger === 'keys_unavailable'));
    assert.ok(ct.count('quic:packet_dropped', (d) => d.trigger === 'key_unavailable') === 0);
  });
});

describe('RFC 9000 §8.1 address validation', () => {
  it('a server sends at most 3x what it received before validating the address', () => {
    // A long certificate chain, so the server's flight exceeds three times the client's Initial.
    const pki = testPki('ec-p256');
    const p = new Pair(
      configs((_c, s) =>
        s.setCertificateChain(
          pki.chainPem +
            pki.root.pem +
            pki.unknownRoot.pem +
            pki.selfSigned.pem +
            pki.leafDirect.pem +
            pki.wrongHost.pem +
            pki.expired.pem,
        ),
      ),
    );
    let clientDatagrams = 0;
    p.dropIf = (_d, toServer) => toServer && clientDatagrams++ > 0;
    p.runUntil(() => false, 200);
    const st = p.server!.stats();
    assert.ok(st.bytesSent > 1200, `server sent ${st.bytesSent}`);
    assert.ok(st.bytesSent <= 3 * st.bytesReceived, `${st.bytesSent} > 3 x ${st.bytesReceived}`);
  });

  it('Retry: the client uses the token and new DCID, and the transport parameters authenticate it (§7.3, §8.1.2)', () => {
    const key = new TokenKey(new Uint8Array(32).fill(3));
    const p = new Pair();
    const retryScid = new Uint8Array(8).fill(0x77);
    let retried = false;
    p.makeServer = (first) => {
      const info = parseDatagramRouting(first, 0);
      const dcid = first.slice(info.dcidOffset, info.dcidOffset + info.dcidLength);
      const scid = first.slice(info.scidOffset, info.scidOffset + info.scidLength);
      if (!retried) {
        retried = true;
        const out = new Uint8Array(256);
        const token = key.mintRetryToken({
          odcid: dcid,
          retryScid,
          clientAddress: CLIENT_ADDR,
          now: p.now,
          version: QUIC_VERSION_1,
        });
        const n = buildRetryPacket(out, {
          version: QUIC_VERSION_1,
          clientScid: scid,
          odcid: dcid,
          retryScid,
          token,
        });
        p.deliverToClient(out.slice(0, n));
        return null;
      }
      const token = first.slice(info.tokenOffset, info.tokenOffset + info.tokenLength);
      const v = key.validateToken(token, CLIENT_ADDR, p.now, { expect: 'retry' });
      assert.ok(v.valid && v.kind === 'retry', 'the token validates');
      const odcid = v.odcid;
      assert.deepEqual(dcid, retryScid);
      return accept(retryScid, odcid, SERVER_ADDR, CLIENT_ADDR, p.serverConfig, p.now);
    };
    p.handshake();
    assert.equal(p.client.stats().retrySeen, true);
    const tp = p.client.peerTransportParameters()!;
    assert.deepEqual(tp.retrySourceConnectionId, retryScid);
  });

  it('a Retry with a bad integrity tag is ignored', () => {
    const p = new Pair();
    const buf = new Uint8Array(1500);
    const d = p.client.send(buf, p.now)!;
    const info = parseDatagramRouting(buf.subarray(0, d.length), 0);
    const scid = buf.slice(info.scidOffset, info.scidOffset + info.scidLength);
    const out = new Uint8Array(256);
    const n = buildRetryPacket(out, {
      version: QUIC_VERSION_1,
      clientScid: scid,
      odcid: new Uint8Array(8),
      retryScid: new Uint8Array(8).fill(1),
      token: new Uint8Array([1, 2, 3]),
    });
    // The tag was computed over another ODCID than the client's: it does not verify.
    p.client.recv(out.slice(0, n), { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
    assert.equal(p.client.stats().retrySeen, false);
  });
});

describe('RFC 9000 §6 version negotiation', () => {
  it('the client abandons the attempt when the server supports none of its versions', () => {
    const p = new Pair();
    const buf = new Uint8Array(1500);
    const d = p.client.send(buf, p.now)!;
    const info = parseDatagramRouting(buf.subarray(0, d.length), 0);
    const dcid = buf.slice(info.dcidOffset, info.dcidOffset + info.dcidLength);
    const scid = buf.slice(info.scidOffset, info.scidOffset + info.scidLength);
    const out = new Uint8Array(256);
    const n = buildVersionNegotiation(out, scid, dcid, [0x1a2a3a4a], 0);
    p.client.recv(out.slice(0, n), { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
    assert.equal(p.client.isClosed(), true);
    assert.equal(p.client.localError()?.code, TransportError.VERSION_NEGOTIATION_ERROR);
  });

  it('ignores a Version Negotiation packet listing the version in use', () => {
    const p = new Pair();
    const buf = new Uint8Array(1500);
    const d = p.client.send(buf, p.now)!;
    const info = parseDatagramRouting(buf.subarray(0, d.length), 0);
    const dcid = buf.slice(info.dcidOffset, info.dcidOffset + info.dcidLength);
    const scid = buf.slice(info.scidOffset, info.scidOffset + info.scidLength);
    const out = new Uint8Array(256);
    const n = buildVersionNegotiation(out, scid, dcid, [QUIC_VERSION_1], 0);
    p.client.recv(out.slice(0, n), { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
    assert.equal(p.client.isClosed(), false);
    p.handshake();
  });
});

describe('RFC 9001 §4.6 resumption and 0-RTT', () => {
  it('resumes with a ticket and sends stream data in 0-RTT', () => {
    const cfg = configs((c, s) => {
      c.enableEarlyData();
      s.enableEarlyData();
    });
    const first = new Pair(cfg);
    first.handshake();
    first.runUntil(() => first.client.sessionTicket() !== null, 1000);
    const ticket = first.client.sessionTicket();
    assert.ok(ticket, 'a ticket arrived');

    const p = new Pair(cfg, 'localhost', { sessionTicket: ticket }, first.now + 50);
    assert.equal(p.client.isInEarlyData(), true);
    const msg = new TextEncoder().encode('early hello');
    assert.equal(p.client.streamSend(0, msg, true), msg.length);
    const ct = connectionState(p.client);
    const buf = new Uint8Array(1500);
    const d = p.client.send(buf, p.now)!;
    // Initial + 0-RTT coalesced in the first datagram.
    const h1 = parseHeader(buf.subarray(0, d.length), 0, 8);
    const h2 = parseHeader(buf.subarray(0, d.length), h1.end, 8);
    assert.equal(h2.type, '0rtt');
    p.deliverToServer(buf.slice(0, d.length));
    assert.equal(p.server!.isInEarlyData(), true);
    assert.deepEqual(p.server!.readable(), [0]);
    p.handshake();
    assert.equal(p.client.isResumed(), true);
    assert.equal(p.client.tlsInfo().earlyData, 'accepted');
    assert.equal(p.client.peerCertificateChain().length, 0, 'no Certificate on resumption');
    const out = new Uint8Array(100);
    const r = p.server!.streamRecv(0, out)!;
    assert.equal(new TextDecoder().decode(out.subarray(0, r.length)), 'early hello');
    assert.ok(ct.zeroRttWrite === null, '0-RTT keys discarded once 1-RTT keys exist');
    const st = connectionState(p.server!);
    p.runUntil(() => st.zeroRttRead === null, 1000);
    assert.equal(st.zeroRttRead, null, 'the server drops 0-RTT keys after 3 x PTO (RFC 9001 §4.9.3)');
  });

  it('rejected 0-RTT data is sent again in 1-RTT packets', () => {
    const cfg = configs((c) => c.enableEarlyData());
    const serverNoEarly = configs().server;
    const first = new Pair({
      client: cfg.client,
      server: (() => {
        const s = configs((_c, sv) => sv.enableEarlyData()).server;
        return s;
      })(),
    });
    first.handshake();
    first.runUntil(() => first.client.sessionTicket() !== null, 1000);
    const ticket = first.client.sessionTicket();
    assert.ok(ticket);
    const p = new Pair(
      { client: cfg.client, server: serverNoEarly },
      'localhost',
      { sessionTicket: ticket },
      first.now + 50,
    );
    const msg = new TextEncoder().encode('retransmitted after rejection');
    assert.equal(p.client.streamSend(0, msg, true), msg.length);
    p.handshake();
    assert.equal(p.client.tlsInfo().earlyData, 'rejected');
    const out = new Uint8Array(100);
    let got = '';
    p.runUntil(() => {
      const r = p.server!.readable().includes(0) ? p.server!.streamRecv(0, out) : null;
      if (r) got += new TextDecoder().decode(out.subarray(0, r.length));
      return got === 'retransmitted after rejection';
    }, 10_000);
    assert.equal(got, 'retransmitted after rejection');
  });
});

describe('connect() and accept() arguments', () => {
  it('reject CIDs over 20 bytes and servers without a certificate', () => {
    const cfg = configs();
    assert.throws(
      () => connect(null, new Uint8Array(21), CLIENT_ADDR, SERVER_ADDR, cfg.client, 0),
      RangeError,
    );
    assert.throws(() => accept(new Uint8Array(8), null, SERVER_ADDR, CLIENT_ADDR, cfg.client, 0), RangeError);
  });
});
