// A 50 MB transfer end to end over the simulator, hashed incrementally at both ends (no 50 MB
// buffer anywhere). Its real time and CPU time are printed as test diagnostics, never asserted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectedHash, handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';

const BYTES = 50 * 1000 * 1000;

describe('RFC 9000 §2, §4 a 50 MB transfer arrives intact', () => {
  it('50 MB client → server, 1% loss, SHA-256 equal at both ends', (t) => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const sim = makePair({ seed: 700, traceEvents: 0, link: { loss: 0.01, delay: 10 } });
    handshake(sim);
    const r = transfer(
      sim,
      withLimits({ bytes: BYTES, chunk: 256 * 1024, maxTime: 3_600_000, maxEvents: 20_000_000 }),
    );
    assert.ok(r.intact);
    assert.equal(r.received, BYTES);
    const ms = performance.now() - wall;
    const used = process.cpuUsage(cpu);
    t.diagnostic(
      `50 MB: ${(ms / 1000).toFixed(1)} s real, ${((used.user + used.system) / 1e6).toFixed(1)} s CPU, ` +
        `${(BYTES / 1e6 / (ms / 1000)).toFixed(1)} MB/s real; ${(r.duration / 1000).toFixed(2)} s virtual; ` +
        `${sim.c2s.counters.sent} + ${sim.s2c.counters.sent} datagrams, ${sim.steps} steps`,
    );
    // The receiver's hash is checked against an independent computation of the data as well.
    assert.equal(r.streams[0].receivedHash, expectedHash(BYTES, 0, 1, 256 * 1024));
  });
});
