/**
 * How much reordering loss detection tolerates (RFC 9002 §6.1): path by path, and adaptively.
 *
 * - Per path (RFC 9000 §9.4: "There could be apparent reordering at the receiver when an endpoint
 *   sends data and probes from/to multiple addresses during the migration period, since the two
 *   resulting paths could have different round-trip times"). Every sent packet carries the number
 *   of the path it left on. RFC 9002 §6.1's "sent prior to an acknowledged packet" and its packet
 *   threshold then count only acknowledged packets of the same path, and a packet of a path left
 *   behind keeps that path's time threshold: its smoothed RTT when it was left and the RTT its own
 *   acknowledgments show since. After a migration the ACKs of packets sent on the new path
 *   overtake those of packets still queued on the old one, and a probe's ACK on one path can
 *   overtake the other's queue: that is not loss. A packet of a path left behind that no later
 *   packet of its path vouches for is declared lost once that path has gone quiet for its PTO
 *   (a NAT rebinding that dropped the old mapping: nothing of the old path will ever be
 *   acknowledged). A probe sent on a path other than the active one belongs to no path
 *   (OTHER_PATH): its acknowledgment declares nothing lost.
 * - Spurious losses (RFC 9002 §6.1: "Implementations can detect spurious retransmissions and
 *   increase the packet or time reordering threshold"): packets declared lost are remembered for a
 *   while (bounded), and an ACK that acknowledges one shows that its loss was spurious.
 * - Adaptive thresholds (RFC 9002 §6.1.1: "Algorithms that increase the reordering threshold
 *   after spuriously detecting losses, such as RACK [RFC8985], have proven to be useful"; §6.1.2:
 *   implementations "MAY experiment with ... adaptive thresholds"). A spurious packet-threshold
 *   loss raises the packet threshold to the reordering it revealed; a spurious time-threshold loss
 *   raises the time threshold to the delay it revealed, in RTTs, at most 2 (RACK's reordering
 *   window is at most one smoothed RTT, RFC 8985 §6.2). The packet threshold in use never exceeds
 *   cwnd_packets * (time_threshold - 1): a window of packets leaves over about one RTT, so a
 *   packet that many behind is already older than the time threshold, which declares it lost
 *   first anyway (with 9/8: 1/8 of the window). After 16 smoothed RTTs without a spurious loss,
 *   both move halfway back to the RFC's values (kPacketThreshold 3, kTimeThreshold 9/8), so real
 *   losses are soon found as fast as before; without reordering they never move.
 */
import type { AckRange } from '../wire/frame-types.ts';
import type { SentPacket } from './sent-packets.ts';
import { kGranularity, kPacketThreshold, kTimeThreshold, type PacketNumberSpace } from './types.ts';

/** SentPacket.path of a probe sent on a path other than the active one (RFC 9000 §8.2, §9.1). */
export const OTHER_PATH = -1;
/** Paths left behind whose packets are still judged by their own path's state. */
export const MAX_RETIRED_PATHS = 4;
/** Packets declared lost that are remembered per packet number space, to recognise a late ACK. */
export const MAX_REMEMBERED_LOSSES = 2048;
/** Raised thresholds move halfway back after this many smoothed RTTs without a spurious loss. */
export const THRESHOLD_DECAY_RTTS = 16;
/** The adaptive packet threshold's ceiling (Linux TCP's tcp_max_reordering is 300). */
export const MAX_PACKET_THRESHOLD = 256;
/** The adaptive time threshold's ceiling, as an RTT multiplier (RFC 8985 §6.2: reo_wnd <= SRTT). */
export const MAX_TIME_THRESHOLD = 2;

/** What loss detection knows of one network path (RFC 9000 §9.4). */
export class PathLossState {
  /** The largest acknowledged packet number among packets sent on this path, per space. */
  readonly largestAcked = [-1, -1, -1];
  /** Once the path is left behind: its smoothed_rtt then, and the latest_rtt of its own packets. */
  smoothedRtt = 0;
  latestRtt = 0;
  /** Once left behind: its PTO period then (RFC 9002 §6.2.1), and when it was last heard of. */
  pto = 0;
  lastHeard = -Infinity;

  constructor(
    /** The path's number (SentPacket.path). */
    readonly id: number,
  ) {}

  /** RFC 9002 §6.1.2 with this path's RTT: max(kTimeThreshold * max(smoothed, latest), kGranularity). */
  lossDelay(): number {
    return Math.max(kTimeThreshold * Math.max(this.smoothedRtt, this.latestRtt), kGranularity);
  }

  /**
   * A path left behind: when its packets that no later packet of the path vouches for are given
   * up, its PTO (or its time threshold, if longer) after it was left or last acknowledged a packet.
   */
  quietDeadline(): number {
    return this.lastHeard + Math.max(this.pto, this.lossDelay());
  }
}

/** A remembered loss: the packet, when it was declared lost, its path's largest acknowledged then. */
interface Loss<T> {
  readonly packet: SentPacket<T>;
  readonly time: number;
  readonly pathLargest: number;
}

/**
 * The packets declared lost in one space, in packet number order (a path left behind can lose an
 * older packet by time after the new path lost newer ones by count: that one is inserted).
 */
class LossMemory<T> {
  private pns: number[] = [];
  private losses: (Loss<T> | null)[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  add(loss: Loss<T>): void {
    const pn = loss.packet.packetNumber;
    const pns = this.pns;
    if (this.live === 0) this.clear();
    if (pns.length === 0 || pn > pns[pns.length - 1]) {
      pns.push(pn);
      this.losses.push(loss);
    } else {
      const i = this.lowerBound(pn);
      pns.splice(i, 0, pn);
      this.losses.splice(i, 0, loss);
    }
    this.live++;
    // Bounded: the oldest packet numbers are forgotten first.
    while (this.live > MAX_REMEMBERED_LOSSES) this.removeAt(this.head);
  }

  /** Removes the remembered losses `ranges` acknowledge; appends them to `out`, ascending. */
  takeAcked(ranges: readonly AckRange[], out: Loss<T>[]): void {
    const pns = this.pns;
    for (let r = ranges.length - 1; r >= 0 && this.live > 0; r--) {
      const { smallest, largest } = ranges[r];
      if (largest < pns[this.head]) continue;
      if (smallest > pns[pns.length - 1]) return;
      for (let i = this.lowerBound(smallest); i < pns.length && pns[i] <= largest; i++) {
        const loss = this.losses[i];
        if (loss === null) continue;
        out.push(loss);
        this.removeAt(i);
      }
    }
    this.compact();
  }

  /** Forgets the losses declared before `time` that sit at the head (the oldest packet numbers). */
  forgetBefore(time: number): void {
    while (this.live > 0) {
      const loss = this.losses[this.head];
      if (loss !== null && loss.time >= time) break;
      if (loss === null) this.head++;
      else this.removeAt(this.head);
    }
    if (this.live === 0) this.clear();
  }

  clear(): void {
    this.pns.length = 0;
    this.losses.length = 0;
    this.head = 0;
    this.live = 0;
  }

  private removeAt(i: number): void {
    if (this.losses[i] === null) return;
    this.losses[i] = null;
    this.live--;
    while (this.head < this.losses.length && this.losses[this.head] === null) this.head++;
  }

  private lowerBound(pn: number): number {
    let lo = this.head;
    let hi = this.pns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pns[mid] < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Squeezes out the holes once they outnumber the remembered losses (amortized O(1)). */
  private compact(): void {
    if (this.live === 0) return this.clear();
    if (this.pns.length <= 2 * this.live + 64) return;
    let w = 0;
    for (let r = this.head; r < this.losses.length; r++) {
      const loss = this.losses[r];
      if (loss === null) continue;
      this.losses[w] = loss;
      this.pns[w] = this.pns[r];
      w++;
    }
    this.losses.length = w;
    this.pns.length = w;
    this.head = 0;
  }
}

/** The reordering tolerance of one connection's loss detection; see the module comment. */
export class Reordering<T> {
  /** The active path. */
  current = new PathLossState(0);
  /** RFC 9002 §6.1.1: the packet reordering threshold, kPacketThreshold until a spurious loss. */
  packetThreshold = kPacketThreshold;
  /** RFC 9002 §6.1.2: the time threshold (an RTT multiplier), kTimeThreshold until a spurious loss. */
  timeThreshold = kTimeThreshold;
  /** Losses found spurious so far (a packet declared lost, acknowledged later). */
  spuriousLosses = 0;
  private readonly retired: PathLossState[] = [];
  private readonly memory: LossMemory<T>[] = [new LossMemory(), new LossMemory(), new LossMemory()];
  private readonly scratch: Loss<T>[] = [];
  /** When a spurious loss last raised (or confirmed) the thresholds, or they last decayed. */
  private thresholdChangedAt = -Infinity;

  /** The path number a packet sent now carries. */
  get pathId(): number {
    return this.current.id;
  }

  /**
   * RFC 9000 §9.4: the connection sends on another path from now on. The path left behind keeps
   * its smoothed RTT, latest RTT and PTO period (ms) for its packets still in flight.
   */
  onPathChange(smoothedRtt: number, latestRtt: number, pto: number, now: number): PathLossState {
    const left = this.current;
    left.smoothedRtt = smoothedRtt;
    left.latestRtt = latestRtt;
    left.pto = pto;
    left.lastHeard = now;
    this.retired.push(left);
    if (this.retired.length > MAX_RETIRED_PATHS) this.retired.shift();
    this.current = new PathLossState(left.id + 1);
    return left;
  }

  /** The state of path `id`; null for OTHER_PATH and for a path forgotten since. */
  path(id: number): PathLossState | null {
    if (id === this.current.id) return this.current;
    for (let i = this.retired.length - 1; i >= 0; i--) if (this.retired[i].id === id) return this.retired[i];
    return null;
  }

  /**
   * Newly acknowledged packets of `space` (ascending): each path's largest acknowledged grows; a
   * path left behind takes its latest_rtt from its own ack-eliciting packets (RFC 9002 §5.1).
   */
  onAcked(space: PacketNumberSpace, acked: readonly SentPacket<T>[], now: number): void {
    const current = this.current;
    for (let i = 0; i < acked.length; i++) {
      const p = acked[i];
      const path = p.path === current.id ? current : this.path(p.path);
      if (path === null || p.packetNumber <= path.largestAcked[space]) continue;
      path.largestAcked[space] = p.packetNumber;
      if (path === current) continue;
      path.lastHeard = now;
      if (p.ackEliciting) path.latestRtt = now - p.timeSent;
    }
  }

  /** Remembers a packet just declared lost, with its path's largest acknowledged packet number. */
  onLost(packet: SentPacket<T>, pathLargest: number, now: number): void {
    // A lost PMTU probe or ACK-only packet says nothing worth remembering.
    if (!packet.inFlight || packet.pmtuProbe) return;
    this.memory[packet.space].add({ packet, time: now, pathLargest });
  }

  /**
   * RFC 9002 §6.1: the remembered losses that `ranges` acknowledge were spurious. Appends their
   * packets to `out` (ascending) and raises the threshold that declared each: the packet threshold
   * to the reordering it shows, the time threshold to its delay in RTTs (`rttBasis`, the active
   * path's max(smoothed_rtt, latest_rtt)).
   */
  detectSpurious(
    space: PacketNumberSpace,
    ranges: readonly AckRange[],
    now: number,
    rttBasis: number,
    out: SentPacket<T>[],
  ): void {
    const memory = this.memory[space];
    if (memory.size === 0) return;
    const found = this.scratch;
    found.length = 0;
    memory.takeAcked(ranges, found);
    let packets = 0;
    let rtts = 0;
    for (let i = 0; i < found.length; i++) {
      const { packet, pathLargest } = found[i];
      out.push(packet);
      const path = this.path(packet.path);
      if (path !== null && packet.packetNumber > path.largestAcked[space])
        path.largestAcked[space] = packet.packetNumber;
      // Its path acknowledged the packets up to pathLargest before this one (§6.1.1) ...
      if (packet.lossTrigger === 'reordering_threshold')
        packets = Math.max(packets, pathLargest - packet.packetNumber + 1);
      // ... or it came back later than the time threshold allowed (§6.1.2).
      else if (path === this.current && rttBasis > 0)
        rtts = Math.max(rtts, (now - packet.timeSent) / rttBasis);
    }
    this.spuriousLosses += found.length;
    found.length = 0;
    if (packets === 0 && rtts === 0) return;
    this.thresholdChangedAt = now; // the decay starts over
    if (packets > this.packetThreshold) this.packetThreshold = Math.min(MAX_PACKET_THRESHOLD, packets);
    const time = Math.min(MAX_TIME_THRESHOLD, Math.ceil(rtts * 8) / 8);
    if (time > this.timeThreshold) this.timeThreshold = time;
  }

  /** Moves raised thresholds halfway back once per `decayPeriod` ms without a spurious loss. */
  decay(now: number, decayPeriod: number): void {
    if (this.packetThreshold === kPacketThreshold && this.timeThreshold === kTimeThreshold) return;
    if (now - this.thresholdChangedAt < decayPeriod) return;
    this.thresholdChangedAt = now;
    this.packetThreshold = kPacketThreshold + ((this.packetThreshold - kPacketThreshold) >> 1);
    this.timeThreshold = Math.floor(((this.timeThreshold + kTimeThreshold) / 2) * 8) / 8;
  }

  /**
   * The packet threshold in use with a congestion window of `cwndPackets` packets: at most
   * cwnd_packets * (time_threshold - 1), at least kPacketThreshold (see the module comment).
   */
  packetThresholdFor(cwndPackets: number): number {
    const cap = Math.floor(cwndPackets * (this.timeThreshold - 1));
    return Math.min(this.packetThreshold, Math.max(kPacketThreshold, cap));
  }

  /** Forgets the losses of `space` declared before `time` (kept at most that long). */
  forgetLossesBefore(space: PacketNumberSpace, time: number): void {
    const memory = this.memory[space];
    if (memory.size > 0) memory.forgetBefore(time);
  }

  /** The space's keys were discarded (RFC 9002 §6.4): its losses are forgotten. */
  discardSpace(space: PacketNumberSpace): void {
    this.memory[space].clear();
  }

  /** Back to a single path and kPacketThreshold, nothing remembered (a Retry, RFC 9002 §6.3). */
  reset(): void {
    for (const m of this.memory) m.clear();
    this.retired.length = 0;
    this.current = new PathLossState(this.current.id + 1);
    this.resetThreshold();
  }

  /** The thresholds return to the RFC's values (a new path's reordering is unknown). */
  resetThreshold(): void {
    this.packetThreshold = kPacketThreshold;
    this.timeThreshold = kTimeThreshold;
    this.thresholdChangedAt = -Infinity;
  }
}

/**
 * RFC 9000 §9.4: the packets sent on path `pathId`, the only ones its congestion controller sees
 * (the others' bytes left it at the path change). Returns `packets` when all were sent on that
 * path; otherwise fills `out` with those that were.
 */
export function ofPath<T>(packets: SentPacket<T>[], pathId: number, out: SentPacket<T>[]): SentPacket<T>[] {
  let i = 0;
  while (i < packets.length && packets[i].path === pathId) i++;
  if (i === packets.length) return packets;
  out.length = 0;
  for (let j = 0; j < packets.length; j++) if (packets[j].path === pathId) out.push(packets[j]);
  return out;
}
