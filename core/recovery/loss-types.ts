/**
 * The types LossRecovery (loss-recovery.ts) takes and returns: its options, and what processing
 * an ACK frame or a loss detection timeout did (RFC 9002 Appendix A.7, A.9).
 */
import type { CongestionControlAlgorithm, CongestionController } from './congestion.ts';
import type { SentPacket } from './sent-packets.ts';
import type { PacketNumberSpace, RecoveryListener } from './types.ts';

/** Construction options of LossRecovery. */
export interface LossRecoveryOptions {
  /** Servers always consider the peer's address validated (RFC 9002 Appendix A.8). */
  isServer: boolean;
  /** An algorithm name or a ready controller (default 'cubic'). */
  congestionControl?: CongestionControlAlgorithm | CongestionController;
  /** With an algorithm name: run HyStart++ (RFC 9406) in the initial slow start (default true). */
  hyStart?: boolean;
  /** Initial max datagram size in bytes (default 1200). */
  maxDatagramSize?: number;
  /** The RTT assumed before a sample (default kInitialRtt, 333 ms; RFC 9002 §6.2.2). */
  initialRtt?: number;
  /** The peer's max_ack_delay (ms, default 25); setPeerMaxAckDelay updates it. */
  maxAckDelay?: number;
  /** The pacer's burst allowance in bytes (default: the initial window). */
  pacingBurst?: number;
  /** Receives metrics and congestion state changes (qlog recovery events). */
  listener?: RecoveryListener;
}

/** What processing one ACK frame did (RFC 9002 Appendix A.7). */
export interface AckResult<T> {
  /** Packets this ACK newly acknowledged, ascending packet number. */
  newlyAcked: SentPacket<T>[];
  /** Packets declared lost (lossTrigger says why), ascending packet number. */
  lost: SentPacket<T>[];
  /**
   * Packets declared lost earlier that this ACK acknowledges (RFC 9002 §6.1 spurious losses), in
   * ascending packet number: their frames were queued again; what was not resent yet need not be.
   */
  spuriouslyLost: SentPacket<T>[];
  /** Whether the ACK produced an RTT sample (RFC 9002 §5.1). */
  rttSampled: boolean;
  /** Whether persistent congestion was established (RFC 9002 §7.6.2). */
  persistentCongestion: boolean;
  /**
   * The ACK acknowledges a packet number never sent in this space: the frame was ignored; the
   * connection SHOULD close with PROTOCOL_VIOLATION (RFC 9000 §13.1).
   */
  ackedUnsent: boolean;
}

/** A PTO's request: send `count` ack-eliciting packets in `space` (RFC 9002 §6.2.4, §6.2.2.1). */
export interface ProbeRequest {
  space: PacketNumberSpace;
  count: 1 | 2;
}

/** What a loss detection timeout did (RFC 9002 Appendix A.9). */
export interface TimeoutResult<T> {
  /** Packets declared lost by the time threshold. */
  lost: SentPacket<T>[];
  /** The probes to send now, or null (a time-threshold loss or a timer that was not due). */
  probe: ProbeRequest | null;
}

/** Which mode the loss detection timer is in (qlog timer_updated timer_type 'ack' / 'pto'). */
export type LossTimerKind = 'loss_time' | 'pto';
