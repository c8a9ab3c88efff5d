/**
 * The connection's side of DPLPMTUD (pmtud.ts): starting the search at handshake confirmation
 * (RFC 9000 §14.3.1), building PMTU probes — 1-RTT packets of PING and PADDING, ack-eliciting,
 * in flight, flagged so that their loss is no congestion signal (RFC 9000 §14.4) — feeding
 * acknowledgments, losses and PTOs to the state machine, and applying its size changes to the
 * send path and the congestion controller (RFC 9002 §7.2), traced as quic:mtu_updated.
 */
import { TAG_LENGTH } from '../crypto/keys.ts';
import { protectPacket } from '../crypto/packet-protection.ts';
import { SentPacket } from '../recovery/sent-packets.ts';
import { Writer } from '../wire/buffer.ts';
import { FrameType } from '../wire/frame-types.ts';
import { encodePacketNumberLength } from '../wire/packet-number.ts';
import { writeShortHeader } from '../wire/packet-write.ts';
import type { MtuChange, Pmtud } from './pmtud.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';
import { Sent } from './types.ts';
import type { SendInfo, SentPayload } from './types.ts';

const APP = PacketNumberSpace.ApplicationData;

/** MAX_PLPMTU: our max_udp_payload_size and the peer's (RFC 9000 §18.2), never below 1200. */
export function pmtuCeiling(s: ConnState): number {
  const peer = s.peerParams?.maxUdpPayloadSize ?? 1200;
  return Math.max(1200, Math.min(s.config.maxUdpPayloadSize, peer));
}

/** RFC 9000 §14.3.1: the handshake is confirmed: DPLPMTUD enters BASE and starts searching. */
export function startPmtud(s: ConnState, now: number): void {
  if (!s.config.pmtud || s.pmtud.state !== 'disabled') return;
  s.pmtud.path = currentPath(s);
  applyMtuChange(s, s.pmtud.start(pmtuCeiling(s), now), now);
}

function currentPath(s: ConnState): NonNullable<Pmtud['path']> {
  return {
    localAddress: s.local.address,
    localPort: s.local.port,
    peerAddress: s.peer.address,
    peerPort: s.peer.port,
  };
}

/**
 * RFC 9000 §14.2: a maximum datagram size per pair of addresses. When the active path is no
 * longer the one measured (migration, NAT rebinding, a return to an earlier path), the new one
 * starts again at BASE_PLPMTU.
 */
export function followPath(s: ConnState, now: number): void {
  const p = s.pmtud.path;
  if (p === null || s.pmtud.state === 'disabled') return;
  const { local, peer } = s;
  if (
    p.peerPort === peer.port &&
    p.localPort === local.port &&
    p.peerAddress === peer.address &&
    p.localAddress === local.address
  )
    return;
  s.pmtud.path = currentPath(s);
  applyMtuChange(s, s.pmtud.onPathChange(now), now);
}

/** Applies a size change: the send path and the congestion controller use it; qlog mtu_updated. */
export function applyMtuChange(s: ConnState, c: MtuChange | null, now: number): void {
  if (c === null) return;
  if (c.new !== s.maxDatagramSize) {
    s.maxDatagramSize = c.new;
    s.recovery.setMaxDatagramSize(c.new, now);
  }
  if (s.trace && (c.old !== c.new || c.done))
    s.tracer.event(now, 'quic:mtu_updated', { old: c.old, new: c.new, ...(c.done ? { done: true } : {}) });
}

/** An acknowledged application-space packet: a confirmed probe, or a sign the path carries its size. */
export function onPmtuAcked(s: ConnState, p: SentPacket<SentPayload>, now: number): void {
  const pm = s.pmtud;
  if (pm.state === 'disabled' || p.space !== APP) return;
  if (p.pmtuProbe) applyMtuChange(s, pm.onProbeAcked(p.size, now), now);
  else pm.onPacketAcked(p.size, p.timeSent);
}

/** A lost application-space packet: a failed probe, or a black hole symptom (RFC 8899 §4.3). */
export function onPmtuLost(s: ConnState, p: SentPacket<SentPayload>, now: number): void {
  const pm = s.pmtud;
  if (pm.state === 'disabled' || p.space !== APP) return;
  if (p.pmtuProbe) applyMtuChange(s, pm.onProbeLost(p.size, now), now);
  else applyMtuChange(s, pm.onPacketLost(p.size, p.timeSent, now), now);
}

/** A PTO fired: repeated PTOs above BASE_PLPMTU are a black hole (pmtud.ts). */
export function onPmtuPto(s: ConnState, now: number): void {
  if (s.pmtud.state === 'disabled') return;
  applyMtuChange(s, s.pmtud.onPto(s.recovery.ptoCount, now), now);
}

/**
 * Writes a PMTU probe into `out` when one is due and allowed (handshake confirmed, validated
 * path, no PTO probe pending, the congestion window has room: RFC 9000 §14.4 probes consume
 * it); null otherwise. The probe is one 1-RTT packet of exactly the probed size.
 */
export function buildPmtuProbe(s: ConnState, out: Uint8Array, now: number): SendInfo | null {
  const pm = s.pmtud;
  if (pm.state !== 'searching' && pm.raiseAt === null) return null;
  const keys = s.oneRtt;
  if (keys === null || !s.handshakeConfirmed || s.phase.kind !== 'established' || !s.pathValidated)
    return null;
  const space = s.spaces[APP];
  // PTO probes, and ACKs that are due, go first.
  if (space.probes > 0 || (space.acks.ackPending && space.acks.ackDue(now))) return null;
  const size = pm.probeDue(now);
  if (size === 0 || size > out.length || !s.recovery.cc.canSend(size)) return null;

  const pn = space.nextPn;
  const largest = s.recovery.largestAckedPacket(APP);
  const pnLength = encodePacketNumberLength(pn, largest < 0 ? null : largest);
  const w = new Writer(out, 0);
  const pnOffset = writeShortHeader(w, {
    dcid: s.peerCids.dcid,
    spin: false,
    keyPhase: keys.phase,
    pnLength,
    pn,
    quicBit: s.quicBit.next(),
  });
  const payloadEnd = size - TAG_LENGTH;
  // RFC 9000 §14.4: PING and PADDING ("probing using padding data", RFC 8899 §4.1).
  w.u8(FrameType.PING);
  const padding = payloadEnd - w.offset;
  w.fill(0, padding);
  space.nextPn = pn + 1;
  const payloadLength = payloadEnd - pnOffset - pnLength;
  const length = protectPacket(keys.write, out, 0, pnOffset, pnLength, payloadLength, pn);
  keys.onSealed(pn);
  let at = now;
  if (s.config.pacing) at = Math.max(now, s.recovery.nextSendTime(now, length));
  if (at < s.lastSendAt) at = s.lastSendAt;
  s.lastSendAt = at;
  const payload: SentPayload = { ackLargest: -1, frames: [{ k: Sent.Ping }], oneRtt: true, type: '1rtt' };
  s.recovery.onPacketSent(new SentPacket(APP, pn, length, true, true, payload, true), at);
  pm.onProbeSent(size);
  s.stats.packetsSent++;
  s.stats.bytesSent += length;
  if (s.trace) {
    s.tracer.event(now, 'quic:packet_sent', {
      header: {
        packet_type: '1RTT',
        packet_number: pn,
        packet_number_length: pnLength,
        key_phase: keys.generation,
      },
      frames: [
        { frame_type: 'ping' },
        { frame_type: 'padding', raw: { length: padding, payload_length: padding } },
      ],
      raw: { length, payload_length: payloadLength },
      is_mtu_probe_packet: true,
    });
    s.tracer.event(now, 'quic:udp_datagrams_sent', { count: 1, raw: [{ length }] });
  }
  // RFC 9000 §10.1: the first ack-eliciting packet after a receipt restarts the idle timer.
  if (s.receivedSinceSend) {
    s.receivedSinceSend = false;
    if (s.idleTimeout > 0) s.idleDeadline = now + Math.max(s.idleTimeout, s.threePto());
  }
  return { length, from: s.local, to: s.peer, at };
}
