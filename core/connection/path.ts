/**
 * The peer's address (RFC 9000 §8.2, §9.3): a server follows a peer that moved (NAT rebinding),
 * validates the new address with PATH_CHALLENGE under the 3x anti-amplification limit, returns
 * without re-validation to an address validated before, challenges the previous path after an
 * apparent migration (§9.3.3: copies of genuine packets raced ahead by an attacker), and reverts
 * to the last validated address when validation fails (§9.3.2).
 */
import { TAG_LENGTH } from '../crypto/keys.ts';
import { protectPacket } from '../crypto/packet-protection.ts';
import { SentPacket } from '../recovery/sent-packets.ts';
import { kInitialRtt } from '../recovery/types.ts';
import { Writer } from '../wire/buffer.ts';
import { FrameType } from '../wire/frame-types.ts';
import { encodePacketNumberLength } from '../wire/packet-number.ts';
import { writeShortHeader } from '../wire/packet-write.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';
import type { Address, SendInfo } from './types.ts';

/** Addresses remembered as validated, and challenges outstanding. */
const MAX_PATHS = 4;

function same(a: Address, b: Address): boolean {
  return a.address === b.address && a.port === b.port;
}

function tuple(a: Address) {
  return a.address.includes(':')
    ? { ip_v6: a.address, port_v6: a.port }
    : { ip_v4: a.address, port_v4: a.port };
}

/** Marks `addr` validated (the handshake path, or a PATH_RESPONSE from it). */
export function rememberValidated(s: ConnState, addr: Address): void {
  if (s.validatedPaths.some((a) => same(a, addr))) return;
  if (s.validatedPaths.length >= MAX_PATHS) s.validatedPaths.shift();
  s.validatedPaths.push({ address: addr.address, port: addr.port });
}

function challenge(s: ConnState, addr: Address): Uint8Array {
  const data = s.provider.randomBytes(8);
  if (s.pathChallenges.length >= MAX_PATHS) s.pathChallenges.shift();
  s.pathChallenges.push({ data, addr: { address: addr.address, port: addr.port } });
  return data;
}

/**
 * RFC 9000 §9.3: the highest-numbered non-probing packet came from `from` in a datagram of
 * `received` bytes. A server moves there;
 * an address not validated before gets a PATH_CHALLENGE, the 3x limit, and a new peer CID, and
 * the previous path is challenged too (§9.3.3).
 */
export function onPeerAddress(s: ConnState, from: Address, to: Address, now: number, received: number): void {
  if (same(from, s.peer)) return;
  if (!s.isServer || !s.handshakeConfirmed) return;
  const previous = s.peer;
  s.peer = { address: from.address, port: from.port };
  s.local = { address: to.address, port: to.port };
  s.stats.pathChanges++;
  if (s.validatedPaths.some((a) => same(a, from))) {
    // §9.3: back on a validated path (a spurious migration ended): no validation needed.
    s.pathValidated = true;
    s.pathValidationDeadline = null;
    s.pathChallengePending = null;
    if (s.trace)
      s.tracer.event(now, 'quic:migration_state_updated', {
        new: 'migration_complete',
        tuple_remote: tuple(from),
      });
    return;
  }
  s.peerCids.rotate(); // RFC 9000 §9.5: a new CID for a new path when one is available
  s.pathValidated = false;
  s.pathReceived = received; // the datagram that moved us counts toward the 3x limit (§8.1)
  s.pathSent = 0;
  s.pathChallengePending = challenge(s, from);
  // §8.2.4: abandon after 3 x max(PTO, the PTO of a new path with kInitialRtt).
  const pto = Math.max(s.recovery.ptoPeriod(PacketNumberSpace.ApplicationData), 3 * kInitialRtt);
  s.pathValidationDeadline = now + 3 * pto;
  // §9.3.3: validate the previously active path as well, to move back if this was an attack.
  if (s.validatedPaths.some((a) => same(a, previous)))
    s.oldPathProbe = { addr: previous, data: challenge(s, previous) };
  if (s.trace)
    s.tracer.event(now, 'quic:migration_state_updated', {
      new: 'migration_started',
      tuple_remote: tuple(from),
    });
}

/** PATH_RESPONSE (RFC 9000 §8.2.3): the address its challenge went to is validated. */
export function onPathResponse(s: ConnState, data: Uint8Array, now: number): void {
  const i = s.pathChallenges.findIndex((c) => c.data.every((b, k) => b === data[k]));
  if (i < 0) return;
  const { addr } = s.pathChallenges[i];
  s.pathChallenges.splice(i, 1);
  rememberValidated(s, addr);
  if (same(addr, s.peer) && !s.pathValidated) {
    s.pathValidated = true;
    s.pathValidationDeadline = null;
    if (s.trace)
      s.tracer.event(now, 'quic:migration_state_updated', {
        new: 'migration_complete',
        tuple_remote: tuple(addr),
      });
  }
}

/** §9.3.2: validation of the current address failed: revert to the last validated one. */
export function onPathTimeout(s: ConnState, now: number): void {
  const d = s.pathValidationDeadline;
  if (d === null || now < d) return;
  s.pathValidationDeadline = null;
  const back = s.validatedPaths[s.validatedPaths.length - 1];
  if (back === undefined) return;
  s.peer = { address: back.address, port: back.port };
  s.pathValidated = true;
  s.pathChallengePending = null;
  if (s.trace)
    s.tracer.event(now, 'quic:migration_state_updated', {
      new: 'migration_abandoned',
      tuple_remote: tuple(back),
    });
}

/**
 * The PATH_CHALLENGE probe of the previous path (§9.3.3): a 1-RTT packet padded to 1200 bytes
 * (§8.2.1) sent to the old address; not counted in flight (§9.4: probes do not drive congestion).
 */
export function buildOldPathProbe(s: ConnState, out: Uint8Array, now: number): SendInfo | null {
  const probe = s.oldPathProbe;
  const keys = s.oneRtt;
  if (probe === null || keys === null) return null;
  s.oldPathProbe = null;
  const space = s.spaces[PacketNumberSpace.ApplicationData];
  const pn = space.nextPn++;
  const largest = s.recovery.largestAckedPacket(space.id);
  const pnLength = encodePacketNumberLength(pn, largest < 0 ? null : largest);
  const w = new Writer(out, 0);
  const pnOffset = writeShortHeader(w, {
    dcid: s.peerCids.dcid,
    spin: false,
    keyPhase: keys.phase,
    pnLength,
    pn,
  });
  const payloadStart = w.offset;
  w.u8(FrameType.PATH_CHALLENGE).bytes(probe.data);
  w.fill(0, 1200 - TAG_LENGTH - w.offset);
  const size = protectPacket(keys.write, out, 0, pnOffset, pnLength, w.offset - payloadStart, pn);
  keys.onSealed(pn);
  s.recovery.onPacketSent(
    new SentPacket(space.id, pn, size, false, false, {
      ackLargest: -1,
      frames: [],
      oneRtt: true,
      type: '1rtt',
    }),
    now,
  );
  s.stats.packetsSent++;
  s.stats.bytesSent += size;
  if (s.trace)
    s.tracer.event(now, 'quic:packet_sent', {
      header: { packet_type: '1RTT', packet_number: pn, packet_number_length: pnLength },
      frames: [{ frame_type: 'path_challenge', data: '' }],
      raw: { length: size },
    });
  return { length: size, from: s.local, to: probe.addr, at: Math.max(now, s.lastSendAt) };
}
