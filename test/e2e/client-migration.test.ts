// Client-initiated connection migration over the simulator (RFC 9000 §9): the client probes a
// new local address (§9.1) with a fresh CID (§9.5), moves once the path is validated (§9.2), the
// server follows and validates the client's new address (§9.3), probes the previous path
// (§9.3.3), and both restart congestion control and RTT on the new path (§9.4).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MigrationError } from '../../core/index.ts';
import type { Connection } from '../../core/index.ts';
import { connectionState } from '../../core/connection/connection.ts';
import { kInitialRtt } from '../../core/recovery/types.ts';
import { expectedHash, frameCount, handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';
import { formatAddress, sameAddress } from '../helpers/netsim.ts';
import type { Address, Sim } from '../helpers/netsim.ts';

const OLD_LOCAL: Address = { address: '10.0.0.1', port: 50_000 }; // the simulator's client address
const NEW_LOCAL: Address = { address: '10.0.1.7', port: 51_000 };

/** The DCID of a datagram's first packet when it is a short header (8-byte CIDs in makePair). */
function shortDcid(bytes: Uint8Array): string | null {
  if ((bytes[0] & 0x80) !== 0) return null;
  return Buffer.from(bytes.subarray(1, 9)).toString('hex');
}

/** Records the DCIDs of 1-RTT packets per client address: sent from it (c2s) and to it (s2c). */
function recordDcids(sim: Sim<Connection>): { c2s: Map<string, Set<string>>; s2c: Map<string, Set<string>> } {
  const seen = { c2s: new Map<string, Set<string>>(), s2c: new Map<string, Set<string>>() };
  const note = (map: Map<string, Set<string>>, a: Address, bytes: Uint8Array) => {
    const dcid = shortDcid(bytes);
    if (dcid === null) return;
    const key = formatAddress(a);
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    set.add(dcid);
  };
  sim.c2s.addRule((d) => (note(seen.c2s, d.from, d.bytes), false));
  sim.s2c.addRule((d) => (note(seen.s2c, d.to, d.bytes), false));
  return seen;
}

function disjoint(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  for (const x of a) if (b.has(x)) return false;
  return true;
}

function migrationStates(sim: Sim<Connection>, side: 'client' | 'server'): string[] {
  return sim
    .endpoint(side)
    .tracer!.events('quic:migration_state_updated')
    .map((e) => e.new);
}

describe('RFC 9000 §9.2 a client migrates to a new local address', () => {
  it('mid-download of 10 MB: the data arrives intact, the server follows, each path has its own CIDs (§9.5)', () => {
    const sim = makePair({ seed: 700, traceEvents: 0 });
    const seen = recordDcids(sim);
    handshake(sim);
    sim.addAddress('client', NEW_LOCAL);
    const start = sim.now;
    sim.at(start + 200, () => sim.client.c.migrate(NEW_LOCAL, sim.now));
    const bytes = 10 * 1000 * 1000;
    const r = transfer(
      sim,
      withLimits({ bytes, direction: 's2c', chunk: 256 * 1024, maxTime: 600_000, maxEvents: 10_000_000 }),
    );
    assert.ok(r.intact);
    assert.equal(r.streams[0].receivedHash, expectedHash(bytes, r.streams[0].id, 1, 256 * 1024));
    assert.ok(r.duration > 200, 'the migration happened mid-transfer');
    const client = sim.client.c.stats();
    const server = sim.server.c.stats();
    assert.deepEqual(client.localAddress, NEW_LOCAL);
    assert.deepEqual(server.peerAddress, NEW_LOCAL);
    assert.equal(client.pathChanges, 1);
    assert.equal(client.migrationsInitiated, 1);
    assert.equal(client.migrationsValidated, 1);
    assert.equal(client.migrationsFailed, 0);
    assert.equal(server.pathChanges, 1);
    assert.equal(server.migrationsValidated, 1);
    // The old address received data before the move, the new one after it.
    const oldKey = formatAddress(OLD_LOCAL);
    const newKey = formatAddress(NEW_LOCAL);
    assert.ok((seen.s2c.get(newKey)?.size ?? 0) > 0 && (seen.s2c.get(oldKey)?.size ?? 0) > 0);
    // §9.5: no CID is used from (or to) both client addresses, in either direction.
    assert.ok(disjoint(seen.c2s.get(oldKey), seen.c2s.get(newKey)), JSON.stringify([...seen.c2s]));
    assert.ok(disjoint(seen.s2c.get(oldKey), seen.s2c.get(newKey)), JSON.stringify([...seen.s2c]));
  });

  it('traces the probe and the move (qlog migration_state_updated, tuple_assigned, connection_id_updated)', () => {
    const sim = makePair({ seed: 701, traceEvents: 20_000 });
    handshake(sim);
    sim.runFor(50);
    sim.addAddress('client', NEW_LOCAL);
    const before = sim.client.c.destinationId();
    // §8.2.2: the server answers on the path the challenge came from, i.e. to the new address,
    // before the client moved there.
    let answeredOnNewPath = 0;
    sim.s2c.addRule((d) => {
      if (sameAddress(d.to, NEW_LOCAL) && sim.client.c.stats().pathChanges === 0) answeredOnNewPath++;
      return false;
    });
    sim.client.c.migrate(NEW_LOCAL, sim.now);
    const r = transfer(sim, withLimits({ bytes: 200_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    assert.deepEqual(migrationStates(sim, 'client'), [
      'probing_started',
      'probing_successful',
      'migration_complete',
    ]);
    assert.ok(migrationStates(sim, 'server').includes('migration_complete'));
    const tracer = sim.client.tracer!;
    const tuple = tracer.events('quic:tuple_assigned')[0];
    assert.equal(tuple.tuple_id, '1');
    assert.deepEqual(tuple.tuple_local, { ip_v4: NEW_LOCAL.address, port_v4: NEW_LOCAL.port });
    const switched = tracer
      .events('quic:connection_id_updated')
      .find((e) => e.old !== undefined && e.new !== undefined);
    assert.ok(switched !== undefined, 'the DCID change is traced');
    assert.equal(switched.old, Buffer.from(before).toString('hex'));
    assert.notEqual(switched.new, switched.old);
    // The probe went out padded to 1200 bytes (§8.2.1), from the new address.
    const probe = tracer
      .events('quic:packet_sent')
      .find((e) => e.frames?.some((f) => f.frame_type === 'path_challenge'));
    assert.equal(probe?.raw?.length, 1200);
    // The server challenged the client's new address and the previous path (§9.3.3, §9.6.3).
    assert.ok(frameCount(sim, 'server', 'path_challenge') >= 2);
    assert.ok(frameCount(sim, 'client', 'retire_connection_id') >= 1, 'the old CID is retired');
    assert.equal(answeredOnNewPath, 1);
  });

  it('restarts congestion control and RTT on the new path (§9.4), but not for a port-only change', () => {
    for (const [local, reset] of [
      [NEW_LOCAL, true],
      [{ address: OLD_LOCAL.address, port: 50_001 }, false],
    ] as const) {
      const sim = makePair({ seed: 702, traceEvents: 0 });
      handshake(sim);
      sim.runFor(200);
      sim.addAddress('client', local);
      sim.client.c.migrate(local, sim.now);
      sim.run({ until: () => sim.client.c.stats().migrationsValidated === 1, maxTime: 10_000 });
      const st = sim.client.c.stats();
      assert.equal(
        st.smoothedRtt === kInitialRtt,
        reset,
        `smoothed RTT ${st.smoothedRtt} after moving to ${local.port}`,
      );
      assert.equal(st.latestRtt === 0, reset);
      sim.run({ until: () => sim.server.c.stats().migrationsValidated === 1, maxTime: 10_000 });
      assert.equal(sim.server.c.stats().smoothedRtt === kInitialRtt, reset, 'the server side too');
    }
  });

  it('an upload survives the old interface going down as the client moves', () => {
    const sim = makePair({ seed: 703, traceEvents: 5000 });
    handshake(sim);
    sim.addAddress('client', NEW_LOCAL);
    sim.at(sim.now + 100, () => {
      sim.blackhole(OLD_LOCAL);
      sim.client.c.migrate(NEW_LOCAL, sim.now);
    });
    const r = transfer(sim, withLimits({ bytes: 1_000_000, direction: 'c2s', maxTime: 120_000 }));
    assert.ok(r.intact);
    assert.deepEqual(sim.server.c.stats().peerAddress, NEW_LOCAL);
    // The server's probe of the previous path (§9.3.3) failed: that does not move it back.
    sim.runFor(5000);
    assert.deepEqual(sim.server.c.stats().peerAddress, NEW_LOCAL);
    assert.equal(sim.server.c.isClosed(), false);
  });

  it('a new path that black-holes fails validation (§8.2.4): the client stays on the old path', () => {
    const sim = makePair({ seed: 704, traceEvents: 5000 });
    handshake(sim);
    sim.addAddress('client', NEW_LOCAL);
    sim.blackhole(NEW_LOCAL);
    const cids = connectionState(sim.client.c).peerCids;
    let probeSeq = -1;
    sim.at(sim.now + 50, () => {
      sim.client.c.migrate(NEW_LOCAL, sim.now);
      probeSeq = connectionState(sim.client.c).otherPaths[0].dcidSeq;
    });
    const r = transfer(sim, withLimits({ bytes: 1_000_000, direction: 'both', maxTime: 120_000 }));
    assert.ok(r.intact);
    sim.run({ until: () => sim.client.c.stats().migrationsFailed === 1, maxTime: 10_000 });
    const st = sim.client.c.stats();
    assert.deepEqual(st.localAddress, OLD_LOCAL);
    assert.equal(st.pathChanges, 0);
    assert.equal(st.migrationsValidated, 0);
    const states = migrationStates(sim, 'client');
    assert.equal(states[states.length - 1], 'probing_abandoned');
    assert.ok(!states.includes('probing_successful'));
    // The probe's CID was sent from the dead address: it is retired, never reused (§9.5).
    assert.ok(probeSeq >= 0);
    assert.equal(cids.cidOf(probeSeq), null);
    assert.ok(frameCount(sim, 'client', 'path_challenge') >= 2, 'the challenge was sent again (§8.2.1)');
    // Later the path works: a new attempt succeeds.
    sim.blackhole(NEW_LOCAL, false);
    sim.runFor(100);
    sim.client.c.migrate(NEW_LOCAL, sim.now);
    sim.run({ until: () => sim.client.c.stats().migrationsValidated === 1, maxTime: 10_000 });
    assert.deepEqual(sim.client.c.stats().localAddress, NEW_LOCAL);
  });
});

describe('RFC 9000 §9, §9.5 refused migrations (MigrationError)', () => {
  function refused(fn: () => void, kind: string): void {
    assert.throws(fn, (e: unknown) => e instanceof MigrationError && e.kind === kind);
  }

  it('before the handshake is confirmed, from a server, to the same address, after close', () => {
    const sim = makePair({ seed: 710 });
    refused(() => sim.client.c.migrate(NEW_LOCAL, sim.now), 'handshake_not_confirmed');
    handshake(sim);
    sim.runFor(50);
    refused(() => sim.server.c.migrate(NEW_LOCAL, sim.now), 'not_client');
    refused(() => sim.client.c.migrate({ ...OLD_LOCAL }, sim.now), 'same_path');
    assert.throws(() => sim.client.c.migrate({ address: 1 } as never, sim.now), TypeError);
    sim.client.c.close(true, 0, '');
    refused(() => sim.client.c.migrate(NEW_LOCAL, sim.now), 'closed');
  });

  it('the server sent disable_active_migration (§9, §18.2)', () => {
    const sim = makePair({ seed: 711, server: (c) => c.setDisableActiveMigration(true) });
    handshake(sim);
    sim.runFor(50);
    refused(() => sim.client.c.migrate(NEW_LOCAL, sim.now), 'disabled_by_peer');
    assert.equal(connectionState(sim.client.c).otherPaths.length, 0, 'nothing was probed');
  });

  it('no unused server CID is left (§9.5); the NEW_CONNECTION_ID that replaces a retired one makes it possible again', () => {
    // active_connection_id_limit 2: the server gives one spare CID.
    const sim = makePair({ seed: 712, client: (c) => c.setActiveConnectionIdLimit(2) });
    handshake(sim);
    sim.runFor(50);
    const second: Address = { address: '10.0.2.9', port: 52_000 };
    sim.addAddress('client', NEW_LOCAL);
    sim.addAddress('client', second);
    sim.client.c.migrate(NEW_LOCAL, sim.now);
    refused(() => sim.client.c.migrate(second, sim.now), 'no_spare_cid');
    // The refusal did not disturb the first probe.
    sim.run({ until: () => sim.client.c.stats().migrationsValidated === 1, maxTime: 10_000 });
    sim.runFor(200);
    sim.client.c.migrate(second, sim.now);
    sim.run({ until: () => sim.client.c.stats().migrationsValidated === 2, maxTime: 10_000 });
    assert.deepEqual(sim.client.c.stats().localAddress, second);
    sim.run({ until: () => sim.server.c.stats().pathChanges === 2, maxTime: 10_000 });
    assert.deepEqual(sim.server.c.stats().peerAddress, second);
  });

  it('the server uses zero-length CIDs (§9.5: SHOULD NOT migrate)', () => {
    const sim = makePair({ seed: 713 });
    handshake(sim);
    sim.runFor(50);
    const s = connectionState(sim.client.c);
    Object.defineProperty(s.peerCids, 'dcid', { get: () => new Uint8Array(0) });
    refused(() => sim.client.c.migrate(NEW_LOCAL, sim.now), 'zero_length_cid');
  });
});

describe('RFC 9000 §9 a server that sent disable_active_migration', () => {
  it('drops the packets of a client that migrates anyway, and the connection stays on its path', () => {
    const sim = makePair({ seed: 720, traceEvents: 5000, server: (c) => c.setDisableActiveMigration(true) });
    handshake(sim);
    sim.runFor(50);
    sim.addAddress('client', NEW_LOCAL);
    // A misbehaving client: it ignores the parameter.
    connectionState(sim.client.c).peerParams!.disableActiveMigration = false;
    sim.client.c.migrate(NEW_LOCAL, sim.now);
    const r = transfer(sim, withLimits({ bytes: 300_000, direction: 'both', maxTime: 60_000 }));
    assert.ok(r.intact);
    sim.run({ until: () => sim.client.c.stats().migrationsFailed === 1, maxTime: 10_000 });
    assert.equal(
      frameCount(sim, 'server', 'path_challenge', 'received'),
      0,
      'the probes were dropped unread',
    );
    const dropped = sim.server
      .tracer!.events('quic:packet_dropped')
      .filter((e) => e.details?.reason === 'active migration disabled');
    assert.ok(dropped.length >= 1);
    assert.equal(sim.server.c.stats().pathChanges, 0);
    assert.deepEqual(sim.client.c.stats().localAddress, OLD_LOCAL);
    assert.equal(sim.server.c.isClosed(), false);
  });

  it('still follows a NAT rebinding (same CID, §9.5)', () => {
    const sim = makePair({ seed: 721, server: (c) => c.setDisableActiveMigration(true) });
    handshake(sim);
    const nat: Address = { address: '198.51.100.9', port: 40_404 };
    sim.at(sim.now + 60, () => sim.rebind('client', nat, 30));
    const r = transfer(sim, withLimits({ bytes: 500_000, direction: 'c2s', maxTime: 60_000 }));
    assert.ok(r.intact);
    assert.deepEqual(sim.server.c.stats().peerAddress, nat);
  });
});
