// The server's preferred address (RFC 9000 §9.6, §18.2) over the simulator: the server offers
// one in its transport parameters (with the CID of sequence number 1); once the handshake is
// confirmed the client probes it and moves there if the path validates (§9.6.1); the server
// answers and challenges from that address and moves only once it validated the path (§9.6.2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../core/index.ts';
import { connectionState } from '../../core/connection/connection.ts';
import { bytesEqual } from '../../core/wire/buffer.ts';
import { handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';
import { formatAddress } from '../helpers/netsim.ts';
import type { Address, Sim } from '../helpers/netsim.ts';
import type { PairOptions } from '../helpers/pair.ts';

const SERVER: Address = { address: '10.0.0.2', port: 443 }; // the simulator's server address
const PREFERRED: Address = { address: '10.0.0.3', port: 4433 };
const PREFERRED_V6: Address = { address: '2001:db8::3', port: 4433 };

function preferredPair(seed: number, options: PairOptions = {}): Sim<Connection> {
  const sim = makePair({
    seed,
    traceEvents: 5000,
    ...options,
    server: (c) => {
      c.setPreferredAddress({ ipv4: PREFERRED, ipv6: PREFERRED_V6 });
      options.server?.(c);
    },
  });
  sim.addAddress('server', PREFERRED);
  return sim;
}

/** Counts the server's datagrams by source address. */
function serverSources(sim: Sim<Connection>): Map<string, number> {
  const sources = new Map<string, number>();
  sim.s2c.addRule((d) => {
    const key = formatAddress(d.from);
    sources.set(key, (sources.get(key) ?? 0) + 1);
    return false;
  });
  return sources;
}

describe('RFC 9000 §9.6 server preferred address', () => {
  it('the client moves to the preferred address after confirmation and the transfer completes there', () => {
    const sim = preferredPair(800);
    const sources = serverSources(sim);
    handshake(sim);
    sim.run({ until: () => sim.server.c.stats().pathChanges === 1, maxTime: 10_000 });
    const states = sim.client.tracer!.events('quic:migration_state_updated').map((e) => e.new);
    assert.deepEqual(states, ['probing_started', 'probing_successful', 'migration_complete']);
    assert.ok(
      sim.server.tracer!.events('quic:migration_state_updated').some((e) => e.new === 'migration_complete'),
    );
    const before = sources.get(formatAddress(PREFERRED)) ?? 0;
    sources.clear();
    const r = transfer(sim, withLimits({ bytes: 1_000_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    assert.ok(before > 0, 'the server answered the probe from its preferred address');
    // Everything after the move leaves from the preferred address (§9.6.2).
    assert.deepEqual([...sources.keys()], [formatAddress(PREFERRED)]);
    const client = sim.client.c.stats();
    assert.deepEqual(client.peerAddress, PREFERRED);
    assert.equal(client.migrationsInitiated, 1);
    assert.equal(client.migrationsValidated, 1);
    assert.deepEqual(sim.server.c.stats().localAddress, PREFERRED);
  });

  it('the parameter carries the CID of sequence number 1 and its reset token; the client probes with it (§5.1.1, §18.2)', () => {
    const sim = preferredPair(801);
    const probeDcids: string[] = [];
    sim.c2s.addRule((d) => {
      if (formatAddress(d.to) === formatAddress(PREFERRED) && (d.bytes[0] & 0x80) === 0)
        probeDcids.push(Buffer.from(d.bytes.subarray(1, 9)).toString('hex'));
      return false;
    });
    handshake(sim);
    const pa = sim.server.c.localTransportParameters()!.preferredAddress!;
    assert.deepEqual([...pa.ipv4Address], [10, 0, 0, 3]);
    assert.equal(pa.ipv4Port, 4433);
    assert.deepEqual([...pa.ipv6Address], [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 3]);
    assert.equal(pa.ipv6Port, 4433);
    // One of the server's CIDs, announced to the endpoint for routing, with its token.
    const events = [];
    for (let e = sim.server.c.pollCidEvent(); e !== null; e = sim.server.c.pollCidEvent()) events.push(e);
    const seq1 = events.find((e) => e.sequenceNumber === 1);
    assert.ok(seq1 !== undefined && bytesEqual(seq1.cid, pa.connectionId));
    assert.ok(sim.server.c.sourceIds().some((c) => bytesEqual(c, pa.connectionId)));
    const s = connectionState(sim.server.c);
    assert.ok(bytesEqual(s.localCids.get(1)!.token, pa.statelessResetToken));
    // No NEW_CONNECTION_ID repeats sequence 1.
    const ncids = sim.server
      .tracer!.events('quic:packet_sent')
      .flatMap((e) => e.frames ?? [])
      .filter((f) => f.frame_type === 'new_connection_id');
    assert.ok(ncids.every((f) => (f as { sequence_number: number }).sequence_number !== 1));
    sim.run({ until: () => sim.client.c.stats().migrationsValidated === 1, maxTime: 10_000 });
    assert.equal(probeDcids[0], Buffer.from(pa.connectionId).toString('hex'));
    assert.ok(bytesEqual(sim.client.c.destinationId(), pa.connectionId));
  });

  it('an unreachable preferred address fails validation: the client keeps the original one (§9.6.1)', () => {
    const sim = preferredPair(802);
    sim.blackhole(PREFERRED);
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 500_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    sim.run({ until: () => sim.client.c.stats().migrationsFailed === 1, maxTime: 10_000 });
    const st = sim.client.c.stats();
    assert.deepEqual(st.peerAddress, SERVER);
    assert.equal(st.migrationsValidated, 0);
    assert.deepEqual(sim.server.c.stats().localAddress, SERVER);
    const states = sim.client.tracer!.events('quic:migration_state_updated').map((e) => e.new);
    assert.equal(states[states.length - 1], 'probing_abandoned');
  });

  it('a client configured not to use it stays (setUsePreferredAddress(false))', () => {
    const sim = preferredPair(803, { client: (c) => c.setUsePreferredAddress(false) });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 200_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    assert.equal(sim.client.c.stats().migrationsInitiated, 0);
    assert.deepEqual(sim.client.c.stats().peerAddress, SERVER);
    assert.equal(sim.c2s.counters.dropped.unroutable, 0);
  });

  it('the client picks the address of its own family (§9.6.3): none when only IPv6 is offered to an IPv4 client', () => {
    const sim = makePair({ seed: 804, server: (c) => c.setPreferredAddress({ ipv6: PREFERRED_V6 }) });
    handshake(sim);
    sim.runFor(500);
    assert.equal(sim.client.c.stats().migrationsInitiated, 0);
    assert.deepEqual(sim.client.c.stats().peerAddress, SERVER);
  });

  it('disable_active_migration does not prevent the move, and allows migration after it (§9, §18.2)', () => {
    const sim = preferredPair(805, { server: (c) => c.setDisableActiveMigration(true) });
    handshake(sim);
    sim.run({ until: () => sim.server.c.stats().pathChanges === 1, maxTime: 10_000 });
    assert.deepEqual(sim.client.c.stats().peerAddress, PREFERRED);
    // Now off the handshake address, the client may migrate.
    const local: Address = { address: '10.0.1.7', port: 51_000 };
    sim.addAddress('client', local);
    sim.runFor(200);
    sim.client.c.migrate(local, sim.now);
    const r = transfer(sim, withLimits({ bytes: 300_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    assert.deepEqual(sim.server.c.stats().peerAddress, local);
    assert.deepEqual(sim.server.c.stats().localAddress, PREFERRED);
  });

  it('the server keeps sending from its original address until it validated the new path (§9.6.2)', () => {
    // The server's first answer from the preferred address (PATH_RESPONSE and its own challenge)
    // is lost: the client validates the path with its next probe and moves, but the server sends
    // its non-probing packets from the original address until its own challenge is answered.
    const sim = preferredPair(806);
    let dropped = 0;
    sim.s2c.addRule((d) => {
      const first = formatAddress(d.from) === formatAddress(PREFERRED) && dropped === 0;
      if (first) dropped++;
      return first;
    });
    // Before the server moved, nothing but probes (sent with their own DCID, §9.5) leaves from there.
    let nonProbesBefore = 0;
    let fromPreferredAfter = 0;
    let fromOriginalAfter = 0;
    sim.s2c.addRule((d) => {
      const s = sim.server.conn;
      if (s === null || (d.bytes[0] & 0x80) !== 0) return false;
      const fromPreferred = formatAddress(d.from) === formatAddress(PREFERRED);
      if (s.stats().pathChanges === 0) {
        const dcid = d.bytes.subarray(1, 9);
        if (fromPreferred && bytesEqual(dcid, s.destinationId())) nonProbesBefore++;
      } else if (fromPreferred) fromPreferredAfter++;
      else fromOriginalAfter++;
      return false;
    });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 300_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    sim.run({ until: () => sim.server.c.stats().pathChanges === 1, maxTime: 10_000 });
    const more = transfer(
      sim,
      withLimits({ bytes: 100_000, direction: 's2c', firstIndex: 1, maxTime: 60_000 }),
    );
    assert.ok(more.intact);
    assert.equal(dropped, 1);
    assert.deepEqual(sim.server.c.stats().localAddress, PREFERRED);
    assert.equal(nonProbesBefore, 0);
    assert.ok(fromPreferredAfter > 50);
    assert.equal(fromOriginalAfter, 0);
  });
});
