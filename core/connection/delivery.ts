/**
 * What happens to sent packets (RFC 9000 §13.3, RFC 9002): an ACK frame goes to loss recovery,
 * acknowledged packets release what they carried, lost packets put their frames back in the send
 * queues (never ACK or PADDING: those are rebuilt fresh), and the loss detection timer sends PTO
 * probes (RFC 9002 §6.2.4).
 */
import type { SentPacket } from '../recovery/sent-packets.ts';
import { FrameType } from '../wire/frame-types.ts';
import type { AckFrame } from '../wire/frame-types.ts';
import { protocolViolation } from '../wire/errors.ts';
import { confirmHandshake } from './handshake.ts';
import { onPmtuAcked, onPmtuLost, onPmtuPto } from './pmtud-probe.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState, PacketSpace } from './state.ts';
import { Sent } from './types.ts';
import type { SentPayload } from './types.ts';

const QLOG_TYPE = { initial: 'initial', handshake: 'handshake', '0rtt': '0RTT', '1rtt': '1RTT' } as const;

/** Processes an ACK frame received in `space` (RFC 9000 §19.3, RFC 9002 §6). */
export function onAckFrame(s: ConnState, space: PacketSpace, f: AckFrame, now: number): void {
  // RFC 9000 §19.3: ACK Delay in µs, scaled by the sender's ack_delay_exponent.
  const ackDelayMs = (f.ackDelay * 2 ** s.ackExponentFor(space.id)) / 1000;
  const r = s.recovery.onAckReceived(space.id, f.ranges, ackDelayMs, now, s.handshakeConfirmed);
  // RFC 9000 §13.1: acknowledging a packet we never sent.
  if (r.ackedUnsent) throw protocolViolation('ACK of a packet never sent', FrameType.ACK);
  // RFC 9000 §13.4.2.1: we never set an ECT codepoint (node:dgram cannot), so ECN counts from
  // the peer fail validation ("a non-zero ECN count corresponding to an ECT codepoint that it
  // never applied"): they are traced with the ACK frame and counted, never fed to congestion
  // control (no ecnCeCount for onAckReceived above).
  if (f.ecn !== undefined) s.ackEcnReceived++;
  let acked1Rtt = false;
  for (const p of r.newlyAcked) {
    onPacketAcked(s, p);
    onPmtuAcked(s, p, now);
    if (p.payload.oneRtt) acked1Rtt = true;
  }
  // A packet declared lost that the peer did receive (RFC 9002 §6.1.1 spurious loss): its stream
  // and CRYPTO data need not go again where the retransmission has not been sent yet.
  for (const p of r.spuriouslyLost) onSpuriousLossAcked(s, p);
  if (r.lost.length > 0) onPacketsLost(s, r.lost, now);
  if (s.trace && r.newlyAcked.length > 0) {
    s.tracer.event(now, 'quic:packets_acked', {
      packet_number_space: s.spaceName(space.id) as 'initial',
      packet_numbers: r.newlyAcked.map((p) => p.packetNumber),
    });
  }
  if (acked1Rtt) {
    s.oneRtt?.onAcked(f.largestAcknowledged);
    // RFC 9001 §4.1.2: a client MAY consider the handshake confirmed when a 1-RTT packet is acknowledged.
    if (!s.isServer && s.handshakeComplete) confirmHandshake(s, now);
  }
}

/** Releases what an acknowledged packet carried. */
export function onPacketAcked(s: ConnState, p: SentPacket<SentPayload>): void {
  const payload = p.payload;
  // RFC 9000 §13.2.4: the peer saw our ACK; stop acknowledging what it covered.
  if (payload.ackLargest >= 0) s.spaces[p.space].acks.onAckOfAck(payload.ackLargest);
  const frames = payload.frames;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    switch (f.k) {
      case Sent.Stream:
        s.streams.onStreamAcked(f.id, f.offset, f.length, f.fin);
        break;
      case Sent.Crypto:
        s.spaces[p.space].cryptoSend.onAck(f.offset, f.length);
        break;
      case Sent.StreamControl:
        s.streams.onControlAcked(f.f);
        break;
      case Sent.RetireConnectionId:
        s.peerCids.onRetireAcked();
        break;
      default:
        break;
    }
  }
}

/**
 * Releases the data of a packet acknowledged after it was declared lost. Only what is idempotent
 * to acknowledge twice (stream and CRYPTO ranges, the ACK it carried): control frames were queued
 * again and are settled by their retransmission's acknowledgement.
 */
function onSpuriousLossAcked(s: ConnState, p: SentPacket<SentPayload>): void {
  const payload = p.payload;
  if (payload.ackLargest >= 0) s.spaces[p.space].acks.onAckOfAck(payload.ackLargest);
  for (const f of payload.frames) {
    if (f.k === Sent.Stream) s.streams.onStreamAcked(f.id, f.offset, f.length, f.fin);
    else if (f.k === Sent.Crypto) s.spaces[p.space].cryptoSend.onAck(f.offset, f.length);
  }
}

/** Declares packets lost: their frames are queued again when still useful (RFC 9000 §13.3). */
export function onPacketsLost(s: ConnState, lost: readonly SentPacket<SentPayload>[], now: number): void {
  for (const p of lost) {
    // RFC 9000 §14.4: a lost PMTU probe says nothing about congestion (counted by PMTUD).
    if (p.inFlight && !p.pmtuProbe) {
      s.stats.packetsLost++;
      s.stats.bytesLost += p.size;
    }
    requeueFrames(s, p);
    if (s.trace) {
      s.tracer.event(now, 'quic:packet_lost', {
        header: { packet_type: QLOG_TYPE[p.payload.type], packet_number: p.packetNumber },
        is_mtu_probe_packet: p.pmtuProbe || undefined,
        trigger: p.lossTrigger ?? undefined,
      });
    }
    onPmtuLost(s, p, now);
  }
}

/** Puts the retransmittable frames of `p` back in their queues (also used for probes and Retry). */
export function requeueFrames(s: ConnState, p: SentPacket<SentPayload>): void {
  const frames = p.payload.frames;
  const space = s.spaces[p.space];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    switch (f.k) {
      case Sent.Stream:
        s.streams.onStreamLost(f.id, f.offset, f.length, f.fin);
        break;
      case Sent.Crypto:
        if (!space.discarded) space.cryptoSend.onLost(f.offset, f.length);
        break;
      case Sent.StreamControl:
        s.streams.onControlLost(f.f);
        break;
      case Sent.NewConnectionId:
        if (s.localCids.get(f.seq) !== undefined && !s.localCids.pendingNew.includes(f.seq))
          s.localCids.pendingNew.push(f.seq);
        break;
      case Sent.RetireConnectionId:
        if (!s.peerCids.pendingRetire.includes(f.seq)) s.peerCids.pendingRetire.push(f.seq);
        break;
      case Sent.HandshakeDone:
        s.handshakeDonePending = true;
        break;
      case Sent.NewToken:
        s.pendingNewTokens.push(f.token);
        break;
      default:
        break;
    }
  }
}

/** Runs the loss detection timer (RFC 9002 §6.2, Appendix A.9) if it is due. */
export function onLossDetectionTimeout(s: ConnState, now: number): void {
  const timer = s.recovery.getLossDetectionTimer();
  if (timer === null || now < timer) return;
  const r = s.recovery.onLossDetectionTimeout(now);
  if (r.lost.length > 0) onPacketsLost(s, r.lost, now);
  const probe = r.probe;
  if (probe === null) return;
  // Repeated PTOs may mean our datagrams no longer fit the path (a PMTU black hole).
  onPmtuPto(s, now);
  let space = s.spaces[probe.space];
  // A space without keys cannot carry the probe: use the highest one that can.
  if (space.discarded || !canWrite(s, space)) {
    space = s.spaces.find((sp) => !sp.discarded && canWrite(s, sp)) ?? space;
  }
  space.probes = Math.max(space.probes, probe.count);
  prepareProbe(s, space);
}

function canWrite(s: ConnState, space: PacketSpace): boolean {
  if (space.id === PacketNumberSpace.ApplicationData) return s.oneRtt !== null || s.zeroRttWrite !== null;
  return space.writeKeys !== null;
}

/**
 * RFC 9002 §6.2.4: a probe carries new data if there is some, else data already sent and not yet
 * acknowledged (here: the CRYPTO bytes in flight, or the frames of the oldest packet in flight),
 * else a PING.
 */
function prepareProbe(s: ConnState, space: PacketSpace): void {
  if (space.id !== PacketNumberSpace.ApplicationData) {
    if (!space.cryptoSend.hasData && space.cryptoSend.hasUnacked) space.cryptoSend.requeueUnacked();
    return;
  }
  if (space.cryptoSend.hasData || s.streams.nextSendable() !== null) return;
  const oldest = s.recovery.sentPackets(space.id).oldest();
  if (oldest !== undefined) requeueFrames(s, oldest);
}
