/**
 * Stream concurrency limits of one stream type (RFC 9000 §4.6, §19.11, §19.14): how many streams
 * each endpoint opened, the peer's limit on ours (MAX_STREAMS received, STREAMS_BLOCKED once per
 * limit), and our limit on the peer's, raised as its streams finish so that the number it may hold
 * open stays at the initial allowance (like quiche).
 */

/** Counts and limits for the bidirectional or the unidirectional streams of a connection. */
export class StreamTypeLimits {
  /** Local streams opened so far (the next index). */
  opened = 0;
  /** The peer's limit on our streams (initial_max_streams_*, then MAX_STREAMS). */
  peerMax = 0;
  /** A STREAMS_BLOCKED is due. */
  blockedPending = false;
  /** Peer streams opened so far: the highest index seen + 1. */
  peerOpened = 0;
  /** Our limit on the peer's streams, as advertised. */
  localMax: number;
  /** The limit to advertise next: the initial one plus the peer streams finished. */
  localMaxNext: number;
  /** A MAX_STREAMS is due. */
  maxStreamsPending = false;
  private blockedAt = -1;

  constructor(readonly initialLocalMax: number) {
    this.localMax = initialLocalMax;
    this.localMaxNext = initialLocalMax;
  }

  /** The index for a new local stream, or null at the peer's limit (STREAMS_BLOCKED becomes due once per limit). */
  open(): number | null {
    if (this.opened >= this.peerMax) {
      if (this.blockedAt !== this.peerMax) {
        this.blockedAt = this.peerMax;
        this.blockedPending = true;
      }
      return null;
    }
    return this.opened++;
  }

  /** Applies the peer's limit; limits that do not grow are ignored (§4.6). */
  raisePeerMax(max: number): void {
    if (max <= this.peerMax) return;
    this.peerMax = max;
    this.blockedPending = false;
  }

  /** Records that the peer opened streams up to `index`. */
  peerOpenedUpTo(index: number): void {
    if (index >= this.peerOpened) this.peerOpened = index + 1;
    this.check();
  }

  /** A peer stream finished and was forgotten: one more may be opened. */
  peerStreamClosed(): void {
    this.localMaxNext++;
    this.check();
  }

  /** A STREAMS_BLOCKED arrived: advertise any credit we hold back. */
  onPeerBlocked(): void {
    if (this.localMaxNext > this.localMax) this.maxStreamsPending = true;
  }

  /** The MAX_STREAMS value to send, if one is due (clears it). */
  pollMaxStreams(): number | null {
    if (!this.maxStreamsPending) return null;
    this.maxStreamsPending = false;
    if (this.localMaxNext > this.localMax) this.localMax = this.localMaxNext;
    return this.localMax;
  }

  /** The STREAMS_BLOCKED limit to send, if one is due (clears it). */
  pollBlocked(): number | null {
    if (!this.blockedPending) return null;
    this.blockedPending = false;
    return this.peerMax;
  }

  /** A MAX_STREAMS was lost: due again if it still carries the current limit (§13.3). */
  onMaxStreamsLost(max: number): void {
    if (max === this.localMax) this.maxStreamsPending = true;
  }

  /** A STREAMS_BLOCKED was lost: due again while still blocked at that limit. */
  onBlockedLost(limit: number): void {
    if (limit === this.peerMax && this.opened >= this.peerMax) this.blockedPending = true;
  }

  /** MAX_STREAMS is due when there is credit to give and less than half the initial allowance is left. */
  private check(): void {
    if (this.localMaxNext > this.localMax && this.localMax - this.peerOpened < this.initialLocalMax / 2)
      this.maxStreamsPending = true;
  }
}
