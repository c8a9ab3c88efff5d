/**
 * Shared vocabulary of core/recovery: packet number spaces, the RFC 9002 constants, and the
 * qlog-shaped change notifications (quic-events §7.2 recovery_metrics_updated, §7.3
 * congestion_state_updated) that the connection forwards to its tracer.
 *
 * Units everywhere in core/recovery: time and durations in milliseconds (floats), sizes in bytes.
 */

/**
 * The three packet number spaces (RFC 9000 §12.3, RFC 9002 Appendix A.2 kPacketNumberSpace),
 * as array indexes so per-space state is an array, not three copies of the same fields.
 */
export const PacketNumberSpace = { Initial: 0, Handshake: 1, ApplicationData: 2 } as const;
/** A packet number space index: 0 Initial, 1 Handshake, 2 Application Data (0-RTT and 1-RTT). */
export type PacketNumberSpace = (typeof PacketNumberSpace)[keyof typeof PacketNumberSpace];

/** Every packet number space, in the RFC's order (the order the PTO scan uses, Appendix A.8). */
export const PACKET_NUMBER_SPACES: readonly PacketNumberSpace[] = [0, 1, 2];

/** The qlog name of a packet number space (quic-events §8.7 PacketNumberSpace). */
export type PacketNumberSpaceName = 'initial' | 'handshake' | 'application_data';

/** qlog names indexed by PacketNumberSpace: `PACKET_NUMBER_SPACE_NAMES[space]`. */
export const PACKET_NUMBER_SPACE_NAMES: readonly PacketNumberSpaceName[] = [
  'initial',
  'handshake',
  'application_data',
];

/** RFC 9002 §6.1.1 / Appendix A.2: reordering threshold in packets. */
export const kPacketThreshold = 3;
/** RFC 9002 §6.1.2 / Appendix A.2: reordering threshold in time, as an RTT multiplier. */
export const kTimeThreshold = 9 / 8;
/** RFC 9002 §6.1.2 / Appendix A.2: timer granularity (ms). */
export const kGranularity = 1;
/** RFC 9002 §6.2.2 / Appendix A.2: the RTT assumed before any sample (ms). */
export const kInitialRtt = 333;
/** RFC 9002 §7.6.1 / Appendix B.1: persistent congestion duration as a PTO multiplier. */
export const kPersistentCongestionThreshold = 3;
/** RFC 9002 §7.3.2 / Appendix B.1: NewReno's window reduction on a congestion event. */
export const kLossReductionFactor = 0.5;
/** RFC 9000 §18.2: max_ack_delay when the peer sends no transport parameter (ms). */
export const DEFAULT_MAX_ACK_DELAY = 25;
/** RFC 9000 §14: the smallest maximum datagram size an endpoint may use. */
export const MIN_MAX_DATAGRAM_SIZE = 1200;

/** RFC 9002 §7.2: initial window = min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)). */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** RFC 9002 §7.2: minimum window = 2 * max_datagram_size. */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

/**
 * The congestion controller's state, in the names qlog uses for NewReno (quic-events §7.3):
 * RFC 9002 §7.3 slow start, recovery period, congestion avoidance, plus §7.8 application limited
 * and RFC 9406 §4.2 Conservative Slow Start (HyStart++).
 */
export type CongestionState =
  'slow_start' | 'conservative_slow_start' | 'congestion_avoidance' | 'application_limited' | 'recovery';

/** What caused a congestion state change (the `trigger` of qlog congestion_state_updated). */
export type CongestionTrigger =
  'ack' | 'loss' | 'ecn_ce' | 'persistent_congestion' | 'application_limited' | 'max_datagram_size' | 'reset';

/** Why a packet was declared lost (qlog packet_lost `trigger`, quic-events §7.4). */
export type LossTrigger = 'reordering_threshold' | 'time_threshold';

/**
 * The observable recovery metrics, with qlog's field names and units (quic-events §7.2):
 * RTTs in ms, window sizes in bytes, pacing_rate in bits per second (Infinity before a rate exists
 * is reported as 0). ssthresh is Infinity until the first congestion event.
 */
export interface RecoveryMetrics {
  min_rtt: number;
  smoothed_rtt: number;
  latest_rtt: number;
  rtt_variance: number;
  pto_count: number;
  congestion_window: number;
  bytes_in_flight: number;
  ssthresh: number;
  packets_in_flight: number;
  pacing_rate: number;
}

/** Bit flags naming which RecoveryMetrics fields changed since the last notification. */
export const MetricsField = {
  min_rtt: 1,
  smoothed_rtt: 2,
  latest_rtt: 4,
  rtt_variance: 8,
  pto_count: 16,
  congestion_window: 32,
  bytes_in_flight: 64,
  ssthresh: 128,
  packets_in_flight: 256,
  pacing_rate: 512,
} as const;

const METRIC_KEYS = Object.keys(MetricsField) as (keyof RecoveryMetrics)[];
const RTT_KEYS = new Set<keyof RecoveryMetrics>(['min_rtt', 'smoothed_rtt', 'latest_rtt', 'rtt_variance']);

/**
 * The MetricsField mask of the fields where `current` differs from `reported`, copying them into
 * `reported` (no allocation). NaN in `reported` means "never reported": it always differs.
 */
export function diffMetrics(current: Readonly<RecoveryMetrics>, reported: RecoveryMetrics): number {
  let changed = 0;
  for (let i = 0; i < METRIC_KEYS.length; i++) {
    const key = METRIC_KEYS[i];
    if (current[key] !== reported[key]) {
      changed |= MetricsField[key];
      reported[key] = current[key];
    }
  }
  return changed;
}

/**
 * The fields of `metrics` named by `changed` (a MetricsField bit mask), as a new object ready to be
 * a qlog recovery_metrics_updated payload: RTTs stay floats, the byte and count fields (qlog
 * uint64) are rounded, and non-finite values (ssthresh before any loss) are left out.
 */
export function pickMetrics(metrics: Readonly<RecoveryMetrics>, changed: number): Partial<RecoveryMetrics> {
  const out: Partial<RecoveryMetrics> = {};
  for (const key of METRIC_KEYS) {
    const value = metrics[key];
    if ((changed & MetricsField[key]) === 0 || !Number.isFinite(value)) continue;
    out[key] = RTT_KEYS.has(key) ? value : Math.round(value);
  }
  return out;
}

/**
 * Receives recovery change notifications; every method is optional. The objects passed are reused:
 * copy what must outlive the call (pickMetrics does).
 */
export interface RecoveryListener {
  /** One or more metrics changed (`changed` is a MetricsField mask); called at most once per API call. */
  onMetricsUpdated?(metrics: Readonly<RecoveryMetrics>, changed: number): void;
  /** The congestion controller moved from `old` to `state`. */
  onCongestionStateUpdated?(old: CongestionState, state: CongestionState, trigger: CongestionTrigger): void;
  /**
   * The loss detection thresholds changed (the adaptive packet threshold, RFC 9002 §6.1.1): the
   * fields of a qlog recovery_parameters_set (quic-events §7.1, which MAY be emitted again).
   */
  onParametersUpdated?(params: Readonly<LossThresholds>): void;
}

/** The loss detection thresholds, in qlog's names (quic-events §7.1 recovery_parameters_set). */
export interface LossThresholds {
  /** RFC 9002 §6.1.1, in packets. */
  reordering_threshold: number;
  /** RFC 9002 §6.1.2, as an RTT multiplier. */
  time_threshold: number;
}
