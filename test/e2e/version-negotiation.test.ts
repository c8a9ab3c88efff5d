// Version negotiation end to end over the network simulator, our client against our server:
// incompatible negotiation with Version Negotiation packets (RFC 9000 §6, RFC 9368 §2.1), the
// downgrade checks of version_information (RFC 9368 §4), and compatible negotiation from v1 to
// v2 (RFC 9368 §2.3, RFC 9369 §4).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../core/connection/connection.ts';
import type { MemoryTracer } from '../../core/trace/tracer.ts';
import { TransportError } from '../../core/wire/errors.ts';
import { parseDatagramRouting } from '../../core/wire/packet.ts';
import { buildVersionNegotiation } from '../../core/wire/packet-write.ts';
import { isReservedVersion, QUIC_VERSION_1, QUIC_VERSION_2 } from '../../core/wire/version.ts';
import { packetTypes } from '../helpers/netsim.ts';
import type { Sim } from '../helpers/netsim.ts';
import type { StreamConnection } from '../helpers/netsim-transfer.ts';
import { handshake, transfer } from '../helpers/netsim-transfer.ts';
import { isStreamLimit, streamOpened } from '../helpers/pair.ts';
import { makeVnSim } from '../helpers/vn-server.ts';
import type { VnServer } from '../helpers/vn-server.ts';

const GREASE = 0x1a2a3a4a;
const V1 = '00000001';
const V2 = '6b3343cf';

/** The Version field of the first packet of a datagram. */
function versionOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
}

/** A Version Negotiation packet answering the client datagram `d` (CIDs echoed, RFC 9000 §17.2.1). */
function vnFor(d: Uint8Array, versions: number[]): Uint8Array {
  const r = parseDatagramRouting(d, 0);
  const out = new Uint8Array(256);
  const n = buildVersionNegotiation(
    out,
    d.slice(r.scidOffset, r.scidOffset + r.scidLength),
    d.slice(r.dcidOffset, r.dcidOffset + r.dcidLength),
    versions,
    0x2a,
  );
  return out.slice(0, n);
}

/** Moves a little data both ways and checks it arrived intact. */
function exchange(sim: Sim<StreamConnection>, firstIndex = 0): void {
  const r = transfer(sim, {
    bytes: 30_000,
    direction: 'both',
    firstIndex,
    isBlocked: isStreamLimit,
    streamOpened: (c, id) => streamOpened((c as VnServer).conn ?? (c as unknown as Connection), id),
  });
  assert.ok(r.intact, 'data intact');
}

/** The Version fields (hex) of the long-header packets a side sent, in order. */
function sentVersions(t: MemoryTracer): string[] {
  return t
    .events('quic:packet_sent')
    .filter((e) => e.header.packet_type !== '1RTT')
    .map((e) => String(e.header.version));
}

describe('RFC 9368 §2.1 incompatible version negotiation', () => {
  it('a first flight in an unknown version gets VN; the client starts again in v1 and succeeds', () => {
    const { sim, client, server, tracers } = makeVnSim({
      seed: 1,
      client: (c) => c.setOriginalVersion(GREASE),
    });
    const wire: number[] = [];
    sim.c2s.addRule((d) => {
      if ((d.bytes[0] & 0x80) !== 0) wire.push(versionOf(d.bytes));
      return false;
    });
    handshake(sim);
    exchange(sim);
    // The first datagram carried the unknown version, everything after it v1.
    assert.equal(wire[0], GREASE);
    assert.ok(wire.slice(1).every((v) => v === QUIC_VERSION_1));
    assert.equal(server().vnSent, 1);
    assert.deepEqual(server().vnFor, [GREASE]);
    const st = client().stats();
    assert.equal(st.version, QUIC_VERSION_1);
    assert.equal(st.originalVersion, GREASE);
    assert.equal(st.versionNegotiationSeen, true);
    assert.equal(st.compatibleVersionSwitch, false);
    assert.equal(server().conn!.stats().version, QUIC_VERSION_1);
    assert.equal(server().conn!.stats().versionNegotiationSeen, false);
    // qlog: the VN packet with its versions (ours plus a reserved one, RFC 9000 §6.3) ...
    const vn = tracers.client.find(
      'quic:packet_received',
      (e) => e.header.packet_type === 'version_negotiation',
    );
    assert.ok(vn, 'packet_received version_negotiation');
    assert.deepEqual(vn.supported_versions?.slice(0, 2), [V1, V2]);
    assert.ok(isReservedVersion(parseInt(vn.supported_versions![2], 16)));
    // ... and version_information: the server's list, ours, and the version chosen.
    const vi = tracers.client.find('quic:version_information', (e) => e.server_versions?.length === 3);
    assert.ok(vi);
    assert.deepEqual(vi.client_versions, [V1, V2]);
    assert.equal(vi.chosen_version, V1);
    // Both sides log the exchanged version_information with the version in use.
    const done = tracers.server.events('quic:version_information').at(-1)!;
    assert.deepEqual(done, { server_versions: [V1, V2], client_versions: [V1, V2], chosen_version: V1 });
  });

  it('picks its most preferred version the server lists: v2 when it prefers v2', () => {
    const { sim, client, server } = makeVnSim({
      seed: 2,
      client: (c) => {
        c.setOriginalVersion(GREASE);
        c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]);
      },
    });
    handshake(sim);
    exchange(sim);
    assert.equal(client().stats().version, QUIC_VERSION_2);
    assert.equal(server().conn!.stats().version, QUIC_VERSION_2);
    assert.equal(client().stats().versionNegotiationSeen, true);
  });

  it('a server that accepts only v2 sends VN to a v1 client, which moves to v2', () => {
    const { sim, client, server, tracers } = makeVnSim({
      seed: 3,
      server: (c) => c.setPreferredVersions([QUIC_VERSION_2]),
    });
    handshake(sim);
    exchange(sim);
    assert.deepEqual(server().vnFor, [QUIC_VERSION_1]);
    assert.equal(client().stats().version, QUIC_VERSION_2);
    assert.equal(client().stats().originalVersion, QUIC_VERSION_1);
    assert.equal(server().conn!.stats().version, QUIC_VERSION_2);
    assert.ok(
      sentVersions(tracers.client)
        .slice(1)
        .every((v) => v === V2),
    );
  });

  it('a client preferring v2 gets VN from a v1-only server, moves to v1: no false downgrade alarm', () => {
    const { sim, client, server } = makeVnSim({
      seed: 4,
      version: QUIC_VERSION_2,
      server: (c) => c.setPreferredVersions([QUIC_VERSION_1]),
    });
    handshake(sim);
    exchange(sim);
    assert.equal(client().stats().version, QUIC_VERSION_1);
    assert.equal(client().stats().originalVersion, QUIC_VERSION_2);
    assert.equal(server().vnSent, 1);
  });

  it('recovers when the new first flight is lost (PTO), and with 20% loss both ways', () => {
    for (const seed of [5, 6, 7]) {
      const { sim, client } = makeVnSim({
        seed,
        link: seed === 5 ? {} : { loss: 0.2 },
        client: (c) => c.setOriginalVersion(GREASE),
      });
      if (seed === 5) {
        let n = 0;
        sim.c2s.addRule(() => ++n === 2); // the first datagram of the second attempt
      }
      handshake(sim, { maxTime: 120_000 });
      exchange(sim);
      assert.equal(client().stats().version, QUIC_VERSION_1, `seed ${seed}`);
    }
  });

  it('no common version: the attempt ends at once with a readable VERSION_NEGOTIATION_ERROR', () => {
    const { sim, client, tracers } = makeVnSim({ seed: 8 });
    // A server of other versions answers (the real one never sees the Initial).
    sim.c2s.addRule((d) => {
      sim.inject('client', vnFor(d.bytes, [0xff00001d, 0x5a6a7a8a]), { time: sim.now + 20 });
      return true;
    });
    sim.run({ until: () => client().isClosed(), what: 'the client to give up', allowClose: true });
    const err = client().localError();
    assert.equal(err?.code, TransportError.VERSION_NEGOTIATION_ERROR);
    assert.equal(err?.isApp, false);
    assert.match(
      err!.reason,
      /no common QUIC version: the server offers 0xff00001d, 0x5a6a7a8a; we speak 0x00000001, 0x6b3343cf/,
    );
    assert.equal(client().stats().versionNegotiationSeen, true);
    assert.equal(client().timeout(), null);
    assert.equal(sim.c2s.counters.sent, 1, 'nothing sent after the VN');
    const closed = tracers.client.find('quic:connection_closed');
    assert.equal(closed?.trigger, 'version_mismatch');
    // qlog has no name for 0x11 (quic-events-13 §8.13.24): 'unknown' with the code.
    assert.equal(closed?.connection_error, 'unknown');
    assert.equal(closed?.error_code, 0x11);
  });
});

describe('RFC 9000 §6.2, RFC 9368 §4: Version Negotiation packets a client ignores', () => {
  it('one listing the version it used', () => {
    const { sim, client, tracers } = makeVnSim({ seed: 10 });
    let first = true;
    sim.c2s.addRule((d) => {
      if (first) sim.inject('client', vnFor(d.bytes, [QUIC_VERSION_2, QUIC_VERSION_1]));
      first = false;
      return false;
    });
    handshake(sim);
    exchange(sim);
    const st = client().stats();
    assert.equal(st.versionNegotiationSeen, false);
    assert.equal(st.versionNegotiationIgnored, 1);
    assert.equal(st.version, QUIC_VERSION_1);
    const dropped = tracers.client.find(
      'quic:packet_dropped',
      (e) => e.header?.packet_type === 'version_negotiation',
    );
    assert.deepEqual(dropped?.details, { reason: 'lists the original version' });
  });

  it('one whose connection IDs do not echo the first flight', () => {
    const { sim, client } = makeVnSim({ seed: 11 });
    let first = true;
    sim.c2s.addRule((d) => {
      if (first) {
        const vn = vnFor(d.bytes, [QUIC_VERSION_2]);
        vn[vn.length - 5] ^= 1; // the last byte of the SCID (which must be our DCID)
        sim.inject('client', vn);
      }
      first = false;
      return false;
    });
    handshake(sim);
    assert.equal(client().stats().versionNegotiationIgnored, 1);
    assert.equal(client().stats().version, QUIC_VERSION_1);
  });

  it('a forged one after the handshake (any packet processed), and any sent to a server', () => {
    const { sim, client, server } = makeVnSim({ seed: 12 });
    let firstClient: Uint8Array | null = null;
    sim.c2s.addRule((d) => {
      firstClient ??= d.bytes.slice();
      return false;
    });
    handshake(sim);
    const vn = vnFor(firstClient!, [QUIC_VERSION_2]);
    sim.inject('client', vn);
    sim.inject('server', vn);
    sim.runFor(100);
    exchange(sim);
    assert.equal(client().isEstablished(), true);
    assert.equal(client().isClosed(), false);
    assert.equal(client().stats().versionNegotiationIgnored, 1);
    assert.equal(server().conn!.stats().versionNegotiationIgnored, 1);
  });

  it('one answering the attempt it made because of a VN (RFC 9368 §4)', () => {
    const { sim, client } = makeVnSim({ seed: 13, client: (c) => c.setOriginalVersion(GREASE) });
    let n = 0;
    sim.c2s.addRule((d) => {
      // The second attempt's first datagram: a forged VN "from the server" races the real answer.
      if (++n === 2) sim.inject('client', vnFor(d.bytes, [QUIC_VERSION_2]));
      return false;
    });
    handshake(sim);
    assert.equal(client().stats().version, QUIC_VERSION_1);
    assert.equal(client().stats().versionNegotiationIgnored, 1);
  });
});

describe('RFC 9368 §4 version downgrade prevention', () => {
  it('a forged VN pushing a v2 client to v1 while the server supports v2 is caught: VERSION_NEGOTIATION_ERROR', () => {
    const { sim, client, server, tracers } = makeVnSim({ seed: 20, version: QUIC_VERSION_2 });
    // An on-path attacker drops the v2 Initial and answers it with a VN that lists only v1.
    sim.c2s.addRule((d) => {
      if (versionOf(d.bytes) !== QUIC_VERSION_2) return false;
      sim.inject('client', vnFor(d.bytes, [QUIC_VERSION_1]));
      return true;
    });
    sim.run({
      until: () => client().isClosed() && server().isClosed(),
      what: 'both to close',
      allowClose: true,
    });
    const err = client().localError();
    assert.equal(err?.code, TransportError.VERSION_NEGOTIATION_ERROR);
    assert.match(
      err!.reason,
      /version downgrade: the server supports 0x6b3343cf, 0x00000001, so we would have attempted 0x6b3343cf, not 0x00000001/,
    );
    assert.equal(client().isEstablished(), false);
    // The server learns why in the client's CONNECTION_CLOSE.
    assert.equal(server().conn!.peerError()?.code, TransportError.VERSION_NEGOTIATION_ERROR);
    assert.ok(
      tracers.client.find(
        'quic:connection_closed',
        (e) => e.error_code === TransportError.VERSION_NEGOTIATION_ERROR,
      ),
    );
  });

  it('the same attack against a server preferring v2 (which would switch back by compatible negotiation)', () => {
    const { sim, client } = makeVnSim({
      seed: 21,
      version: QUIC_VERSION_2,
      server: (c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]),
    });
    sim.c2s.addRule((d) => {
      if (versionOf(d.bytes) !== QUIC_VERSION_2 || !packetTypes(d.bytes).includes('initial')) return false;
      if (client().stats().versionNegotiationSeen) return false;
      sim.inject('client', vnFor(d.bytes, [QUIC_VERSION_1]));
      return true;
    });
    sim.run({ until: () => client().isClosed(), what: 'the client to close', allowClose: true });
    assert.equal(client().localError()?.code, TransportError.VERSION_NEGOTIATION_ERROR);
    assert.match(client().localError()!.reason, /version downgrade/);
  });
});

describe('RFC 9368 §2.3, RFC 9369 §4 compatible version negotiation v1 → v2', () => {
  function compatible(seed: number, link = {}, clientPrefersV2 = true) {
    return makeVnSim({
      seed,
      link,
      client: (c) => {
        if (clientPrefersV2) c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]);
      },
      server: (c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]),
    });
  }

  it('the client starts in v1 offering v2; the server switches; everything after is v2', () => {
    const { sim, client, server, tracers } = compatible(30);
    handshake(sim);
    exchange(sim);
    sim.runFor(500);
    // No extra round trip: no Version Negotiation at all.
    assert.equal(server().vnSent, 0);
    const c = client().stats();
    const s = server().conn!.stats();
    assert.equal(c.version, QUIC_VERSION_2);
    assert.equal(s.version, QUIC_VERSION_2);
    assert.equal(c.originalVersion, QUIC_VERSION_1);
    assert.equal(s.originalVersion, QUIC_VERSION_1);
    assert.equal(c.compatibleVersionSwitch, true);
    assert.equal(s.compatibleVersionSwitch, true);
    assert.equal(c.versionNegotiationSeen, false);
    // The trace: the client's first flight is v1, then only v2; the server sent only v2.
    const cv = sentVersions(tracers.client);
    assert.equal(cv[0], V1);
    assert.ok(cv.length > 2 && cv.slice(1).every((v) => v === V2), cv.join(' '));
    assert.ok(sentVersions(tracers.server).every((v) => v === V2));
    const received = tracers.client
      .events('quic:packet_received')
      .filter((e) => e.header.packet_type !== '1RTT')
      .map((e) => e.header.version);
    assert.ok(received.length > 0 && received.every((v) => v === V2));
    // version_information on both sides names v2 as chosen, with both lists.
    assert.deepEqual(tracers.client.events('quic:version_information').at(-1), {
      server_versions: [V2, V1],
      client_versions: [V2, V1],
      chosen_version: V2,
    });
    assert.equal(tracers.server.events('quic:version_information').at(-1)?.chosen_version, V2);
    // Transport parameters: the client chose v1 and offered [v2, v1]; the server chose v2.
    assert.deepEqual(server().conn!.peerTransportParameters()?.versionInformation, {
      chosenVersion: QUIC_VERSION_1,
      availableVersions: [QUIC_VERSION_2, QUIC_VERSION_1],
    });
    assert.equal(client().peerTransportParameters()?.versionInformation?.chosenVersion, QUIC_VERSION_2);
  });

  it('the server follows its own preference even when the client prefers v1', () => {
    const { sim, client } = compatible(31, {}, false);
    handshake(sim);
    assert.equal(client().stats().version, QUIC_VERSION_2);
    assert.deepEqual(client().localTransportParameters()?.versionInformation?.availableVersions, [
      QUIC_VERSION_1,
      QUIC_VERSION_2,
    ]);
  });

  it('a server without a version preference keeps the client version', () => {
    const { sim, client, server } = makeVnSim({
      seed: 32,
      client: (c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]),
    });
    handshake(sim);
    assert.equal(client().stats().version, QUIC_VERSION_1);
    assert.equal(server().conn!.stats().compatibleVersionSwitch, false);
  });

  it("survives the loss of the server's first v2 flight (the client resends v1 Initials)", () => {
    const { sim, client, server } = compatible(33);
    let n = 0;
    sim.s2c.addRule(() => ++n <= 2);
    handshake(sim);
    exchange(sim);
    assert.equal(client().stats().version, QUIC_VERSION_2);
    assert.equal(server().conn!.stats().version, QUIC_VERSION_2);
  });

  it('is robust to loss, reordering and duplication', () => {
    for (const seed of [34, 35, 36, 37]) {
      const { sim, client } = compatible(seed, { loss: 0.15, reorder: 0.2, duplicate: 0.1 });
      handshake(sim, { maxTime: 120_000 });
      exchange(sim);
      assert.equal(client().stats().version, QUIC_VERSION_2, `seed ${seed}`);
    }
  });

  it('after a Retry (sent in the original version, RFC 9369 §4.1)', () => {
    const { sim, client, server } = makeVnSim({
      seed: 38,
      client: (c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]),
      server: (c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]),
      serverOptions: { retry: true },
    });
    handshake(sim);
    exchange(sim);
    assert.equal(server().retrySent, 1);
    assert.equal(client().stats().retrySeen, true);
    assert.equal(client().stats().version, QUIC_VERSION_2);
    assert.equal(server().conn!.stats().compatibleVersionSwitch, true);
  });

  it('after incompatible negotiation (RFC 9368 Figure 1): unknown version → VN → v1 offering v2 → v2', () => {
    const { sim, client, server } = makeVnSim({
      seed: 39,
      client: (c) => c.setOriginalVersion(GREASE),
      server: (c) => c.setPreferredVersions([QUIC_VERSION_2, QUIC_VERSION_1]),
    });
    // The VN lists [v2, v1]; the client prefers v1 (its default), so it attempts v1 and offers v2.
    handshake(sim);
    exchange(sim);
    const st = client().stats();
    assert.equal(st.versionNegotiationSeen, true);
    assert.equal(st.compatibleVersionSwitch, true);
    assert.equal(st.version, QUIC_VERSION_2);
    assert.equal(server().vnSent, 1);
  });

  it('a forged v2 Initial that does not decrypt does not switch the client', () => {
    const { sim, client } = compatible(40);
    let first = true;
    sim.c2s.addRule((d) => {
      if (first) {
        const bytes = d.bytes.slice();
        const r = parseDatagramRouting(bytes, 0);
        // Swap the CIDs and claim v2 (v2 Initial type bits 0b01): garbage under v2 keys.
        const fake = new Uint8Array(1200);
        fake[0] = 0xc0 | (1 << 4);
        new DataView(fake.buffer).setUint32(1, QUIC_VERSION_2);
        fake[5] = r.scidLength;
        fake.set(bytes.subarray(r.scidOffset, r.scidOffset + r.scidLength), 6);
        let p = 6 + r.scidLength;
        fake[p++] = r.dcidLength;
        fake.set(bytes.subarray(r.dcidOffset, r.dcidOffset + r.dcidLength), p);
        p += r.dcidLength;
        fake[p++] = 0; // token length
        const length = 1200 - (p + 2); // the Length field, 2 bytes
        fake[p++] = 0x40 | (length >> 8);
        fake[p] = length & 0xff;
        sim.inject('client', fake);
      }
      first = false;
      return false;
    });
    handshake(sim);
    // It was dropped; the real v2 flight then switched the connection.
    assert.equal(client().stats().version, QUIC_VERSION_2);
    assert.ok(client().stats().packetsDropped >= 1);
  });
});
