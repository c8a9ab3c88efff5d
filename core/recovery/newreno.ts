/**
 * NewReno congestion control as RFC 9002 specifies it (§7.3, Appendix B): slow start adds the
 * acknowledged bytes (with HyStart++, RFC 9406, in congestion.ts), congestion avoidance one
 * max_datagram_size per window acknowledged, and a congestion event halves the window once per
 * recovery period.
 */
import { WindowedController, type CongestionPacket } from './congestion.ts';
import { kLossReductionFactor } from './types.ts';

/** RFC 9002 NewReno (Appendix B). */
export class NewReno extends WindowedController {
  readonly name = 'newreno';

  protected grow(packet: CongestionPacket): void {
    // RFC 9002 §7.3.3: at most one max_datagram_size per congestion window acknowledged.
    this.cwnd += (this.maxDatagramSize * packet.size) / this.cwnd;
  }

  protected reduce(): void {
    // RFC 9002 §7.3.2, Appendix B.6: ssthresh is half the window; the window drops to it at once.
    this.ssthresh = this.cwnd * kLossReductionFactor;
    this.cwnd = this.ssthresh;
  }
}
