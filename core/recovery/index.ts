/**
 * core/recovery: RTT estimation, loss detection and PTO (RFC 9002), congestion control (NewReno,
 * CUBIC RFC 9438) and pacing. Deterministic and sans-IO: every time is a parameter (ms).
 */
export * from './types.ts';
export { RttEstimator } from './rtt.ts';
export { SentPacket, SentPacketStore } from './sent-packets.ts';
export {
  WindowedController,
  type CongestionController,
  type CongestionControlAlgorithm,
  type CongestionControllerOptions,
  type CongestionPacket,
} from './congestion.ts';
export {
  HyStart,
  HYSTART_CSS_GROWTH_DIVISOR,
  HYSTART_CSS_ROUNDS,
  HYSTART_MAX_RTT_THRESH,
  HYSTART_MIN_RTT_DIVISOR,
  HYSTART_MIN_RTT_THRESH,
  HYSTART_N_RTT_SAMPLE,
  hyStartRttThresh,
  type HyStartPhase,
} from './hystart.ts';
export { NewReno } from './newreno.ts';
export { Cubic, CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, cubicK, cubicWindow } from './cubic.ts';
export { CONGESTION_CONTROL_ALGORITHMS, createCongestionController } from './registry.ts';
export { Pacer, PACING_GAIN } from './pacer.ts';
export { LossRecovery } from './loss-recovery.ts';
export type {
  AckResult,
  LossRecoveryOptions,
  LossTimerKind,
  ProbeRequest,
  TimeoutResult,
} from './loss-types.ts';
export {
  MAX_PACKET_THRESHOLD,
  MAX_REMEMBERED_LOSSES,
  MAX_RETIRED_PATHS,
  MAX_TIME_THRESHOLD,
  OTHER_PATH,
  PathLossState,
  Reordering,
  THRESHOLD_DECAY_RTTS,
} from './reordering.ts';
