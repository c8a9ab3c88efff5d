// Reordering that is not loss, over the simulator: after a client migrates, the server's packets
// still queued on the old path arrive after those of the new path (RFC 9000 §9.4, "apparent
// reordering"), and a reordering link makes the thresholds adapt (RFC 9002 §6.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../core/index.ts';
import { connectionState } from '../../core/connection/connection.ts';
import { OTHER_PATH } from '../../core/recovery/reordering.ts';
import { kPacketThreshold, kTimeThreshold, PacketNumberSpace } from '../../core/recovery/types.ts';
import { sameAddress } from '../helpers/netsim.ts';
import type { Address, LinkConfig, Sim } from '../helpers/netsim.ts';
import { handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';

const OLD_LOCAL: Address = { address: '10.0.0.1', port: 50_000 }; // the simulator's client address
const NEW_PORT: Address = { address: '10.0.0.1', port: 51_000 };
const NEW_IP: Address = { address: '10.0.1.7', port: 51_000 };
const BYTES = 3_000_000;

/**
 * A 3 MB download on a 10 ms RTT path; once 1 MB arrived the client migrates to `local`, and from
 * then on the server's datagrams to the old address arrive `backlog` ms late, in order (what the
 * client's old socket still holds while it reads both: the old path's queue).
 */
function migrateWithBacklog(local: Address, backlog: number) {
  const sim = makePair({ seed: 11, traceEvents: 0, link: { delay: 5 } });
  handshake(sim);
  sim.addAddress('client', local);
  let movedAt = Infinity;
  let before = { packetsLost: -1, cwnd: 0, bytesInFlight: 0 };
  sim.s2c.addRule((d) => {
    if (sim.now < movedAt || !sameAddress(d.to, OLD_LOCAL)) return false;
    sim.inject('client', d.bytes, { time: d.departAt + 5 + backlog, from: d.from });
    return true;
  });
  const off = sim.addApp(() => {
    if (sim.client.c.stats().bytesReceived < 1_000_000) return;
    off();
    before = sim.server.c.stats();
    movedAt = sim.now;
    sim.client.c.migrate(local, sim.now);
  });
  const r = transfer(sim, withLimits({ bytes: BYTES, direction: 's2c', maxTime: 60_000 }));
  assert.ok(r.intact);
  const server = sim.server.c.stats();
  assert.equal(server.migrationsValidated, 1);
  assert.deepEqual(server.peerAddress, local);
  return { before, server, reordering: connectionState(sim.server.c).recovery.reordering };
}

describe('RFC 9000 §9.4 a migration mid-download while the old path still delivers', () => {
  it('probes on a path not yet active belong to no path; the move starts a new path at both ends', () => {
    const sim = makePair({ seed: 12, traceEvents: 0 });
    handshake(sim);
    sim.runFor(50); // HANDSHAKE_DONE: the handshake is confirmed (RFC 9000 §9)
    sim.addAddress('client', NEW_IP);
    const client = connectionState(sim.client.c).recovery;
    const server = connectionState(sim.server.c).recovery;
    assert.equal(client.reordering.pathId, 0);
    sim.client.c.migrate(NEW_IP, sim.now);
    const probes = () =>
      client
        .sentPackets(PacketNumberSpace.ApplicationData)
        .toArray()
        .filter((p) => p.path === OTHER_PATH);
    sim.run({ until: () => probes().length > 0, what: 'the PATH_CHALLENGE on the new path', maxTime: 1000 });
    assert.equal(sim.client.c.stats().pathChanges, 0, 'sent before the move');
    sim.run({
      until: () => sim.server.c.stats().migrationsValidated === 1,
      what: 'the move',
      maxTime: 10_000,
    });
    assert.equal(client.reordering.pathId, 1);
    assert.ok(server.reordering.pathId >= 1);
  });

  for (const [what, local] of [
    ['a new port', NEW_PORT],
    ['a new address', NEW_IP],
  ] as const) {
    it(`to ${what}: the server declares none of the old path's packets lost`, () => {
      const { before, server, reordering } = migrateWithBacklog(local, 30);
      assert.ok(before.bytesInFlight > 500_000, `${before.bytesInFlight} bytes were on the old path`);
      // Before per-path loss detection: 866 packets (1 MB) declared lost and sent again.
      assert.equal(server.packetsLost, 0);
      assert.equal(server.streamBytesRetransmitted, 0);
      assert.equal(reordering.spuriousLosses, 0);
      assert.equal(server.ssthresh, null, 'no congestion event');
    });
  }

  it('an old path silent for longer than its PTO is given up, as no congestion signal', () => {
    const { before, server } = migrateWithBacklog(NEW_PORT, 200);
    assert.ok(server.packetsLost > 0, 'the old packets were declared lost and sent again');
    // §9.4: packets sent on the old path "MUST NOT contribute to congestion control".
    assert.equal(server.ssthresh, null);
    assert.ok(server.cwnd >= before.cwnd);
  });
});

/** A 2 MB upload over `link` (10 ms each way); what the client's loss detection did. */
function upload(link: Partial<LinkConfig>, seed = 1) {
  const sim: Sim<Connection> = makePair({ seed, traceEvents: 0, link });
  handshake(sim);
  const reordering = connectionState(sim.client.c).recovery.reordering;
  let packetThreshold = kPacketThreshold;
  let timeThreshold = kTimeThreshold;
  sim.addApp(() => {
    packetThreshold = Math.max(packetThreshold, reordering.packetThreshold);
    timeThreshold = Math.max(timeThreshold, reordering.timeThreshold);
  });
  const r = transfer(sim, withLimits({ bytes: 2_000_000, maxTime: 600_000 }));
  assert.ok(r.intact);
  return {
    lost: sim.client.c.stats().packetsLost,
    spurious: reordering.spuriousLosses,
    reordered: sim.c2s.counters.reordered,
    dropped: sim.c2s.counters.dropped.loss,
    packetThreshold,
    timeThreshold,
  };
}

describe('RFC 9002 §6.1 adaptive reordering thresholds', () => {
  it('a link that reorders 5% of datagrams by 3 ms: the thresholds rise, spurious losses stay rare', () => {
    const r = upload({ reorder: 0.05, reorderDelay: 3 });
    assert.ok(r.packetThreshold > kPacketThreshold && r.timeThreshold > kTimeThreshold, JSON.stringify(r));
    assert.equal(r.lost, r.spurious, 'nothing was dropped: every loss was spurious');
    // With the RFC's fixed thresholds, 51 of these 74 reordered datagrams were declared lost.
    assert.ok(r.spurious * 2 < r.reordered, JSON.stringify(r));
  });

  it('a link with 1% random loss and no reordering: nothing adapts, every loss is real', () => {
    const r = upload({ loss: 0.01 });
    assert.equal(r.spurious, 0);
    assert.equal(r.lost, r.dropped);
    assert.equal(r.packetThreshold, kPacketThreshold);
    assert.equal(r.timeThreshold, kTimeThreshold);
  });
});
