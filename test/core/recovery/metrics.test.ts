import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MetricsField,
  PacketNumberSpace,
  pickMetrics,
  type CongestionState,
  type RecoveryMetrics,
} from '../../../core/recovery/types.ts';
import { newRecovery, ranges, send } from './helpers.ts';

const App = PacketNumberSpace.ApplicationData;

function names(mask: number): string[] {
  return Object.entries(MetricsField)
    .filter(([, bit]) => (mask & bit) !== 0)
    .map(([name]) => name);
}

describe('qlog recovery_metrics_updated and congestion_state_updated', () => {
  it('reports only the metrics that changed, once per call', () => {
    const updates: { changed: string[]; metrics: Partial<RecoveryMetrics> }[] = [];
    const states: [CongestionState, CongestionState, string][] = [];
    const r = newRecovery({
      listener: {
        onMetricsUpdated: (m, changed) =>
          updates.push({ changed: names(changed), metrics: pickMetrics(m, changed) }),
        onCongestionStateUpdated: (o, n, t) => states.push([o, n, t]),
      },
    });
    r.setHandshakeConfirmed(0);
    assert.equal(updates.length, 1, 'the first report carries every metric');
    assert.deepEqual(
      { ...updates[0].metrics },
      {
        min_rtt: 0,
        smoothed_rtt: 333,
        latest_rtt: 0,
        rtt_variance: 166.5,
        pto_count: 0,
        congestion_window: 12000,
        bytes_in_flight: 0,
        packets_in_flight: 0,
        pacing_rate: Math.round(((1.25 * 12000) / 333) * 8000),
      },
    );
    send(r, App, 0, 0);
    assert.deepEqual(updates[1], {
      changed: ['bytes_in_flight', 'packets_in_flight'],
      metrics: { bytes_in_flight: 1200, packets_in_flight: 1 },
    });
    send(r, App, 1, 1, 40, false, false); // not in flight: nothing to report
    assert.equal(updates.length, 2);
    for (let pn = 2; pn <= 5; pn++) send(r, App, pn, 2);
    updates.length = 0;
    r.onAckReceived(App, ranges([5, 5]), 0, 102, true);
    assert.equal(updates.length, 1);
    assert.deepEqual(updates[0].changed, [
      'min_rtt',
      'smoothed_rtt',
      'latest_rtt',
      'rtt_variance',
      'congestion_window',
      'bytes_in_flight',
      'ssthresh',
      'packets_in_flight',
      'pacing_rate',
    ]);
    assert.equal(updates[0].metrics.ssthresh, 6000);
    assert.deepEqual(states, [['slow_start', 'recovery', 'loss']]);
    updates.length = 0;
    r.onLossDetectionTimeout(r.getLossDetectionTimer() as number);
    assert.ok(updates.length <= 1);
  });

  it('pickMetrics rounds byte counts, keeps RTTs and leaves out an infinite ssthresh', () => {
    const m: RecoveryMetrics = {
      min_rtt: 1.5,
      smoothed_rtt: 2.25,
      latest_rtt: 3,
      rtt_variance: 0.125,
      pto_count: 1,
      congestion_window: 12120.4,
      bytes_in_flight: 2400,
      ssthresh: Infinity,
      packets_in_flight: 2,
      pacing_rate: 1_200_000,
    };
    assert.deepEqual(pickMetrics(m, 0x3ff), {
      min_rtt: 1.5,
      smoothed_rtt: 2.25,
      latest_rtt: 3,
      rtt_variance: 0.125,
      pto_count: 1,
      congestion_window: 12120,
      bytes_in_flight: 2400,
      packets_in_flight: 2,
      pacing_rate: 1_200_000,
    });
    assert.deepEqual(pickMetrics(m, MetricsField.min_rtt | MetricsField.ssthresh), { min_rtt: 1.5 });
  });
});
