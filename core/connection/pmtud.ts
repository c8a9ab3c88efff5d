/**
 * Datagram Packetization Layer PMTU Discovery (DPLPMTUD, RFC 8899 §5; RFC 9000 §14.3) for one
 * path, as a pure state machine: the connection tells it what was sent, acknowledged and lost,
 * and applies the size changes it returns (the congestion controller's max datagram size,
 * qlog mtu_updated). It never sends anything itself.
 *
 * - BASE_PLPMTU = MIN_PLPMTU = 1200 (RFC 9000 §14.3); the search starts once the handshake is
 *   confirmed (§14.3.1) and probes up to MAX_PLPMTU = min(our max_udp_payload_size, the peer's).
 * - Search: the sizes of PROBE_SIZES (and MAX_PLPMTU) in ascending order; once a size fails,
 *   a binary search between the largest confirmed size and the smallest failed one, until the
 *   gap is below SEARCH_GRANULARITY. A size fails after MAX_PROBES lost probes (RFC 8899 §5.1.2).
 * - QUIC is an acknowledged PL: no CONFIRMATION_TIMER in SEARCH_COMPLETE (RFC 9000 §14.3.2);
 *   when the search ended below MAX_PLPMTU, the PMTU_RAISE_TIMER (600 s) starts a new search.
 * - Black hole detection (RFC 8899 §4.3): BLACK_HOLE_THRESHOLD packets larger than BASE_PLPMTU
 *   lost with no larger packet sent after them acknowledged, while smaller ones get through; or a
 *   second consecutive PTO (every ack-eliciting packet lost: full-size data and PTO probes alike).
 *   Either drops the size to BASE_PLPMTU and searches again.
 */

/** RFC 9000 §14.3: BASE_PLPMTU (and MIN_PLPMTU) is QUIC's smallest maximum datagram size. */
export const BASE_PLPMTU = 1200;
/** RFC 8899 §5.1.2: probes of one size lost before the size is taken as failed. */
export const MAX_PROBES = 3;
/** RFC 8899 §5.1.1 PMTU_RAISE_TIMER: a new search this long after one ended below MAX_PLPMTU (ms). */
export const PMTU_RAISE_TIMER = 600_000;
/** Candidate sizes (UDP payload bytes): IPv6 minimum MTU, common tunnels, Ethernet, jumbo frames. */
export const PROBE_SIZES: readonly number[] = [
  1280, 1350, 1400, 1452, 1472, 1500, 2048, 4096, 8192, 8952, 9000, 16384, 32768, 65527,
];
/** The binary refinement stops when the confirmed and failed sizes are closer than this. */
export const SEARCH_GRANULARITY = 32;
/** Suspicious losses of large packets that make a black hole (RFC 8899 §4.3). */
export const BLACK_HOLE_THRESHOLD = 3;
/** Consecutive PTOs (RFC 9002 pto_count) that make a black hole while the size is above BASE. */
export const BLACK_HOLE_PTO_COUNT = 2;

/** RFC 8899 §5.2 states (ERROR is not reachable: QUIC never goes below BASE_PLPMTU, §14). */
export type PmtudState = 'disabled' | 'base' | 'searching' | 'search_complete';

/** A change of the maximum datagram size (a qlog quic:mtu_updated payload). */
export interface MtuChange {
  old: number;
  new: number;
  /** The search has ended (for now). */
  done: boolean;
}

/** DPLPMTUD for one path (RFC 8899 §5). Sizes are UDP payload bytes, times ms. */
export class Pmtud {
  state: PmtudState = 'disabled';
  /** PLPMTU: the largest confirmed datagram size, used for every packet but probes. */
  current = BASE_PLPMTU;
  /** MAX_PLPMTU: the largest size the search may reach. */
  max = BASE_PLPMTU;
  /** The size the next (or outstanding) probe has; 0 when none. */
  probeSize = 0;
  /** A probe is in flight (one at a time). */
  probeOutstanding = false;
  /** When the raise timer fires (SEARCH_COMPLETE below MAX_PLPMTU), or null. */
  raiseAt: number | null = null;
  /** The path (our address and the peer's) this state measures; kept by the connection. */
  path: { localAddress: string; localPort: number; peerAddress: string; peerPort: number } | null = null;
  /** Probes sent, lost (each loss counted), and black holes detected. */
  probesSent = 0;
  probesLost = 0;
  blackHoles = 0;

  /** The smallest size known to fail in this search (exclusive bound), Infinity when none. */
  private failed = Infinity;
  /** Probes of `probeSize` lost so far. */
  private lostAtSize = 0;
  /** When `current` was adopted: packets sent before do not count for black hole detection. */
  private since = -Infinity;
  /** Send time of the newest acknowledged packet above / at or below BASE_PLPMTU. */
  private largeAckedSentAt = -Infinity;
  private smallAckedSentAt = -Infinity;
  /** Suspicious losses (large packets sent after the newest acknowledged large one), and the first one's send time. */
  private suspicious = 0;
  private firstSuspiciousSentAt = Infinity;

  /**
   * Enters BASE with the path's MAX_PLPMTU (RFC 9000 §14.3.1: at handshake confirmation) and
   * starts the search when there is room above BASE_PLPMTU. Returns the change to trace.
   */
  start(max: number, now: number): MtuChange {
    this.max = Math.max(BASE_PLPMTU, Math.floor(max));
    this.current = BASE_PLPMTU;
    this.since = now;
    this.state = 'base';
    this.resetSearch();
    return this.advance(BASE_PLPMTU, now);
  }

  /** The size to probe now, or 0 (not searching, a probe outstanding, or nothing left to try). */
  probeDue(now: number): number {
    if (this.state === 'search_complete' && this.raiseAt !== null && now >= this.raiseAt) {
      // RFC 8899 §5.2: the PMTU_RAISE_TIMER: search again above the current size.
      this.raiseAt = null;
      this.resetSearch();
      this.state = 'searching';
      this.probeSize = this.nextCandidate();
      if (this.probeSize === 0) this.complete(now);
    }
    if (this.state !== 'searching' || this.probeOutstanding) return 0;
    return this.probeSize;
  }

  /** A probe of `size` bytes left. */
  onProbeSent(size: number): void {
    this.probeOutstanding = true;
    this.probesSent++;
    if (size !== this.probeSize) this.probeSize = size;
  }

  /** A probe of `size` was acknowledged: the size is confirmed (RFC 8899 §5.2 SEARCHING). */
  onProbeAcked(size: number, now: number): MtuChange | null {
    if (size === this.probeSize) this.probeOutstanding = false;
    if (this.state === 'disabled' || size <= this.current || size > this.max) return null;
    const old = this.current;
    this.current = size;
    this.since = now;
    if (this.failed <= size) this.failed = Infinity; // a late acknowledgment beats a loss
    this.lostAtSize = 0;
    this.suspicious = 0;
    this.firstSuspiciousSentAt = Infinity;
    return this.advance(old, now);
  }

  /** A probe of `size` was declared lost; MAX_PROBES losses fail the size. */
  onProbeLost(size: number, now: number): MtuChange | null {
    this.probesLost++;
    if (size !== this.probeSize) return null; // a probe of an abandoned search
    this.probeOutstanding = false;
    if (this.state !== 'searching') return null;
    if (++this.lostAtSize < MAX_PROBES) return null;
    this.failed = Math.min(this.failed, size);
    this.lostAtSize = 0;
    return this.advance(this.current, now);
  }

  /** A packet that is not a probe was acknowledged (black hole detection). */
  onPacketAcked(size: number, timeSent: number): void {
    if (size > BASE_PLPMTU) {
      if (timeSent > this.largeAckedSentAt) {
        this.largeAckedSentAt = timeSent;
        this.suspicious = 0;
        this.firstSuspiciousSentAt = Infinity;
      }
    } else if (timeSent > this.smallAckedSentAt) {
      this.smallAckedSentAt = timeSent;
    }
  }

  /**
   * A packet that is not a probe was declared lost. Large packets lost after the newest large
   * packet that got through, while smaller packets sent later do get through, are the symptom
   * of a black hole (RFC 8899 §4.3); BLACK_HOLE_THRESHOLD of them drop the size to BASE_PLPMTU.
   */
  onPacketLost(size: number, timeSent: number, now: number): MtuChange | null {
    if (this.current <= BASE_PLPMTU || this.state === 'disabled') return null;
    if (size <= BASE_PLPMTU || timeSent < this.since || timeSent <= this.largeAckedSentAt) return null;
    this.suspicious++;
    if (timeSent < this.firstSuspiciousSentAt) this.firstSuspiciousSentAt = timeSent;
    if (this.suspicious < BLACK_HOLE_THRESHOLD || this.smallAckedSentAt <= this.firstSuspiciousSentAt)
      return null;
    return this.blackHole(now);
  }

  /**
   * A PTO fired with pto_count `ptoCount` (after its increment). Two in a row with nothing
   * acknowledged: every packet (PTO probes carry data, so they are full-size too) may be too
   * large for the path: drop to BASE_PLPMTU so the next probes can get through.
   */
  onPto(ptoCount: number, now: number): MtuChange | null {
    if (this.state === 'disabled' || this.current <= BASE_PLPMTU || ptoCount < BLACK_HOLE_PTO_COUNT)
      return null;
    return this.blackHole(now);
  }

  /** The peer's address changed (a new path, RFC 9000 §14.2): start again from BASE_PLPMTU. */
  onPathChange(now: number): MtuChange | null {
    if (this.state === 'disabled') return null;
    const old = this.current;
    this.current = BASE_PLPMTU;
    this.since = now;
    this.state = 'base';
    this.resetSearch();
    return this.advance(old, now);
  }

  /** Black hole detected (RFC 8899 §4.3): back to BASE_PLPMTU and a new search. */
  private blackHole(now: number): MtuChange {
    this.blackHoles++;
    const old = this.current;
    this.current = BASE_PLPMTU;
    this.since = now;
    this.state = 'base';
    this.resetSearch();
    return this.advance(old, now);
  }

  private resetSearch(): void {
    this.failed = Infinity;
    this.lostAtSize = 0;
    this.probeSize = 0;
    this.probeOutstanding = false;
    this.raiseAt = null;
    this.suspicious = 0;
    this.firstSuspiciousSentAt = Infinity;
    this.largeAckedSentAt = -Infinity;
    this.smallAckedSentAt = -Infinity;
  }

  /** Picks the next probe size after a change of `current` or `failed`; returns the change. */
  private advance(old: number, now: number): MtuChange {
    this.probeSize = this.nextCandidate();
    if (this.probeSize === 0) {
      this.complete(now);
      return { old, new: this.current, done: true };
    }
    this.state = 'searching';
    return { old, new: this.current, done: false };
  }

  private complete(now: number): void {
    this.state = 'search_complete';
    this.probeSize = 0;
    this.raiseAt = this.current < this.max ? now + PMTU_RAISE_TIMER : null;
  }

  /** The next size to try, or 0 when the search is over. */
  private nextCandidate(): number {
    const lo = this.current;
    const hi = Math.min(this.failed, this.max + 1);
    if (hi - lo <= 1) return 0;
    for (const size of PROBE_SIZES) if (size > lo && size < hi && size <= this.max) return size;
    if (this.failed === Infinity) return this.max > lo ? this.max : 0;
    // A size between the largest confirmed and the smallest failed one: halve the gap.
    if (hi - lo < SEARCH_GRANULARITY) return 0;
    return Math.floor((lo + hi) / 2);
  }
}
