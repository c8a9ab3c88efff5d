/**
 * What LossRecovery tells its RecoveryListener after each event: the metrics that changed (qlog
 * recovery_metrics_updated, quic-events §7.2) and the loss detection thresholds when they change
 * (recovery_parameters_set, §7.1). Its objects are reused: nothing is allocated per event.
 */
import type { CongestionController } from './congestion.ts';
import type { Pacer } from './pacer.ts';
import type { RttEstimator } from './rtt.ts';
import {
  diffMetrics,
  kPacketThreshold,
  kTimeThreshold,
  type LossThresholds,
  type RecoveryListener,
  type RecoveryMetrics,
} from './types.ts';

/** What the report reads (a LossRecovery). */
export interface ReportSource {
  readonly rtt: RttEstimator;
  readonly cc: CongestionController;
  readonly pacer: Pacer;
  readonly ptoCount: number;
  readonly reordering: { readonly packetThreshold: number; readonly timeThreshold: number };
}

/** Reports changes of one LossRecovery's metrics and thresholds to its listener. */
export class RecoveryReporter {
  private readonly current = blankMetrics();
  private readonly reported = blankMetrics();
  private readonly thresholds: LossThresholds = {
    reordering_threshold: kPacketThreshold,
    time_threshold: kTimeThreshold,
  };

  /** Tells `listener` what changed since the last report; `packetsInFlight` over all spaces. */
  report(listener: RecoveryListener | null, r: ReportSource, packetsInFlight: number): void {
    if (listener === null) return;
    const { packetThreshold, timeThreshold } = r.reordering;
    const t = this.thresholds;
    if (packetThreshold !== t.reordering_threshold || timeThreshold !== t.time_threshold) {
      t.reordering_threshold = packetThreshold;
      t.time_threshold = timeThreshold;
      listener.onParametersUpdated?.(t);
    }
    if (listener.onMetricsUpdated === undefined) return;
    const m = this.current;
    const { rtt, cc } = r;
    m.min_rtt = rtt.minRtt;
    m.smoothed_rtt = rtt.smoothedRtt;
    m.latest_rtt = rtt.latestRtt;
    m.rtt_variance = rtt.rttVar;
    m.pto_count = r.ptoCount;
    m.congestion_window = cc.cwnd;
    m.bytes_in_flight = cc.bytesInFlight;
    m.ssthresh = cc.ssthresh;
    m.packets_in_flight = packetsInFlight;
    m.pacing_rate = r.pacer.bitsPerSecond;
    const changed = diffMetrics(m, this.reported);
    if (changed !== 0) listener.onMetricsUpdated(m, changed);
  }
}

/** Metrics never reported: every field NaN, so the first report carries them all. */
function blankMetrics(): RecoveryMetrics {
  return {
    min_rtt: NaN,
    smoothed_rtt: NaN,
    latest_rtt: NaN,
    rtt_variance: NaN,
    pto_count: NaN,
    congestion_window: NaN,
    bytes_in_flight: NaN,
    ssthresh: NaN,
    packets_in_flight: NaN,
    pacing_rate: NaN,
  };
}
