/**
 * Paths other than the active one (RFC 9000 §8.2, §9.1): the ones we probe (a client's new local
 * address, the server's preferred address, the previous path after the peer moved, §9.3.3) and
 * the ones the peer probes (its PATH_CHALLENGE arrived there, so the PATH_RESPONSE goes back on
 * that path, §8.2.2). Each path is probed with its own peer CID, never one sent on another path
 * (§9.5), under its own anti-amplification count (§8.1, §9.3.1), with challenges sent again on a
 * PTO schedule (§9.4) until validation is abandoned (§8.2.4). Probe datagrams are padded to 1200
 * bytes (§8.2.1, §8.2.2) and do not count in flight: they do not drive congestion control (§9.4).
 */
import { TAG_LENGTH } from '../crypto/keys.ts';
import { protectPacket } from '../crypto/packet-protection.ts';
import { SentPacket } from '../recovery/sent-packets.ts';
import { kInitialRtt } from '../recovery/types.ts';
import type { QlogFrame } from '../trace/frames.ts';
import { hex } from '../trace/format.ts';
import { Writer } from '../wire/buffer.ts';
import { FrameType } from '../wire/frame-types.ts';
import { encodePacketNumberLength } from '../wire/packet-number.ts';
import { writeShortHeader } from '../wire/packet-write.ts';
import { copyAddress, sameAddress, tupleEndpoint } from './address.ts';
import { LIMITS, PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';
import type { Address, SendInfo } from './types.ts';

/** Why a path other than the active one is tracked. */
export type PathPurpose =
  /** Client: `migrate()` probes its new local address (§9.1), moving there once validated. */
  | 'migrate'
  /** Client: the server's preferred address (§9.6.1), moved to once validated. */
  | 'preferred'
  /** The previously active path, validated after an apparent migration (§9.3.3). */
  | 'previous'
  /** The peer probes this path: we answer there (§8.2.2); a server challenges it too (§9.6.3). */
  | 'peer';

/** A path other than the active one. */
export interface OtherPath {
  readonly local: Address;
  readonly peer: Address;
  readonly purpose: PathPurpose;
  /** qlog TupleID (quic-events-13 §4.7). */
  readonly tupleId: string;
  /** The peer CID reserved for this path (PeerCids.reserve), -1 for none yet. */
  dcidSeq: number;
  /** The reserved CID was sent on this path (then it is retired with the path, §9.5). */
  dcidUsed: boolean;
  /**
   * With no spare CID, probe with the active path's CID: only for the previous path after a NAT
   * rebinding (the peer kept its CID on both addresses, §9.5), never across our local addresses.
   */
  mayShareCid: boolean;
  /** A PATH_CHALLENGE is to be sent now; the next one is due at `challengeAt` (Infinity: none). */
  challengeDue: boolean;
  challengeAt: number;
  /** Challenges sent (the retransmission back-off). */
  attempts: number;
  /** When validation is abandoned (§8.2.4); Infinity when we do not validate the path. */
  deadline: number;
  validated: boolean;
  /** PATH_RESPONSE data owed on this path (§8.2.2). */
  responses: Uint8Array[];
  /** Bytes received on and sent to this path, for the 3x limit (§8.1, §9.3.1). */
  received: number;
  sent: number;
  /** When the record is forgotten if nothing else ends it. */
  expires: number;
  /** Server: move to this path once it is validated (a packet arrived at the preferred address, §9.6.2). */
  switchOnValidation: boolean;
}

/** Paths tracked besides the active one (each may hold one of the peer's CIDs). */
export const MAX_OTHER_PATHS = 4;
/** Outstanding PATH_CHALLENGE data remembered, over all paths. */
const MAX_CHALLENGES = 8;
/** The smallest probe datagram: a short header with a 20-byte CID, a 4-byte packet number, one frame, the tag. */
const MIN_PROBE_DATAGRAM = 1 + 20 + 4 + 9 + TAG_LENGTH;
/** RFC 9000 §8.2.1, §8.2.2: probe datagrams are expanded to this size. */
const PROBE_DATAGRAM = 1200;

/** RFC 9000 §8.2.4: 3 x max(current PTO, the PTO of a new path with kInitialRtt). */
export function pathValidationTimeout(s: ConnState): number {
  const newPathPto = 3 * kInitialRtt + s.recovery.maxAckDelay; // smoothed + 4 x rttvar + max_ack_delay
  return 3 * Math.max(s.recovery.ptoPeriod(PacketNumberSpace.ApplicationData), newPathPto);
}

/** The PTO used to pace PATH_CHALLENGE retransmissions (§9.4: as RFC 9002 §6.2.1, never faster). */
function challengeInterval(s: ConnState, attempts: number): number {
  return s.recovery.ptoPeriod(PacketNumberSpace.ApplicationData) * 2 ** Math.max(0, attempts - 1);
}

/** Fresh unpredictable PATH_CHALLENGE data for the path (local, peer) (§8.2.1), remembered for the response. */
export function newChallenge(s: ConnState, local: Address, peer: Address): Uint8Array {
  const data = s.provider.randomBytes(8);
  if (s.pathChallenges.length >= MAX_CHALLENGES) s.pathChallenges.shift();
  s.pathChallenges.push({ data, local: copyAddress(local), peer: copyAddress(peer) });
  return data;
}

/** The tracked path (local, peer), if any. */
export function findPath(s: ConnState, local: Address, peer: Address): OtherPath | undefined {
  for (const p of s.otherPaths) if (sameAddress(p.peer, peer) && sameAddress(p.local, local)) return p;
  return undefined;
}

/** Starts tracking the path (local, peer); the oldest is forgotten beyond MAX_OTHER_PATHS. */
export function addPath(
  s: ConnState,
  local: Address,
  peer: Address,
  purpose: PathPurpose,
  now: number,
  dcidSeq = -1,
): OtherPath {
  if (s.otherPaths.length >= MAX_OTHER_PATHS) {
    // The oldest path the peer probes goes first; our own probes last.
    const victim =
      s.otherPaths.find((p) => p.purpose === 'peer' || p.purpose === 'previous') ?? s.otherPaths[0];
    removePath(s, victim, now);
  }
  const path: OtherPath = {
    local: copyAddress(local),
    peer: copyAddress(peer),
    purpose,
    tupleId: String(s.nextTupleId++),
    dcidSeq,
    dcidUsed: false,
    mayShareCid: false,
    challengeDue: false,
    challengeAt: Infinity,
    attempts: 0,
    deadline: Infinity,
    validated: false,
    responses: [],
    received: 0,
    sent: 0,
    expires: now + pathValidationTimeout(s),
    switchOnValidation: false,
  };
  s.otherPaths.push(path);
  if (s.trace) {
    const cid = dcidSeq >= 0 ? s.peerCids.cidOf(dcidSeq) : null;
    s.tracer.event(now, 'quic:tuple_assigned', {
      tuple_id: path.tupleId,
      tuple_local: tupleEndpoint(local),
      tuple_remote: tupleEndpoint(peer, cid === null ? [] : [cid]),
    });
  }
  return path;
}

/** Validates `path` (§8.2.1): a challenge now, again on a PTO schedule, abandoned after §8.2.4's timeout. */
export function startChallenge(s: ConnState, path: OtherPath, now: number): void {
  path.challengeDue = true;
  path.challengeAt = Infinity;
  path.deadline = now + pathValidationTimeout(s);
  path.expires = Math.max(path.expires, path.deadline);
}

/**
 * Forgets `path`: its reserved CID is retired if it was used there (§9.5), released otherwise;
 * `keepCid` hands it over instead (the path becomes the active one). qlog: the tuple is abandoned.
 */
export function removePath(s: ConnState, path: OtherPath, now: number, keepCid = false): void {
  const i = s.otherPaths.indexOf(path);
  if (i < 0) return;
  s.otherPaths.splice(i, 1);
  if (path.dcidSeq >= 0 && !keepCid) s.peerCids.release(path.dcidSeq, path.dcidUsed);
  // quic-events-13 §4.7: a last tuple_assigned without endpoints abandons the TupleID.
  if (s.trace && !keepCid) s.tracer.event(now, 'quic:tuple_assigned', { tuple_id: path.tupleId });
}

/** The DCID to send on `path` (§9.5): its reserved CID, a newly reserved one, or null when none is left. */
function dcidFor(s: ConnState, path: OtherPath): Uint8Array | null {
  if (path.dcidSeq >= 0) {
    const cid = s.peerCids.cidOf(path.dcidSeq);
    if (cid !== null) return cid;
    s.peerCids.release(path.dcidSeq, false); // retired by the peer's Retire Prior To
    path.dcidSeq = -1;
    path.dcidUsed = false;
  }
  const seq = s.peerCids.reserve();
  if (seq === null) return null;
  path.dcidSeq = seq;
  return s.peerCids.cidOf(seq);
}

/**
 * Writes the next probe datagram, or returns null when none is due: the active path's
 * PATH_CHALLENGE after the peer moved (outside congestion control, which old packets may fill,
 * §9.4; under the 3x limit), then PATH_RESPONSE and PATH_CHALLENGE for the other paths.
 */
export function buildPathProbe(s: ConnState, out: Uint8Array, now: number): SendInfo | null {
  if (s.oneRtt === null) return null;
  const challenge = s.pathChallengePending;
  if (challenge !== null) {
    const size = s.pathValidated ? PROBE_DATAGRAM : Math.min(PROBE_DATAGRAM, 3 * s.pathReceived - s.pathSent);
    if (size >= MIN_PROBE_DATAGRAM) {
      s.pathChallengePending = null;
      // §8.2.1: a challenge in a datagram under 1200 bytes does not validate the path MTU.
      if (size < PROBE_DATAGRAM) s.pathChallengeSmall = true;
      const info = writeProbe(s, out, now, s.local, s.peer, s.peerCids.dcid, size, null, challenge);
      if (!s.pathValidated) s.pathSent += info.length;
      return info;
    }
  }
  for (const path of s.otherPaths) {
    if (path.responses.length === 0 && !path.challengeDue) continue;
    // §8.1, §9.3.1: a server answering a probe from an address it has not validated sends at most 3x.
    const limited = s.isServer && !path.validated && !s.validatedPaths.some((a) => sameAddress(a, path.peer));
    const size = limited ? Math.min(PROBE_DATAGRAM, 3 * path.received - path.sent) : PROBE_DATAGRAM;
    if (size < MIN_PROBE_DATAGRAM) continue;
    let dcid = dcidFor(s, path);
    if (dcid === null) {
      // §9.5: "An endpoint that exhausts available connection IDs cannot probe new paths [...],
      // nor can it respond to probes": the path waits for a NEW_CONNECTION_ID.
      if (!path.mayShareCid) continue;
      dcid = s.peerCids.dcid;
    } else {
      path.dcidUsed = true;
    }
    let data: Uint8Array | null = null;
    if (path.challengeDue) {
      data = newChallenge(s, path.local, path.peer);
      path.challengeDue = false;
      path.attempts++;
      // The peer's paths get one challenge (it keeps probing), unless we wait to move there;
      // ours are challenged again (§8.2.4).
      if (path.purpose !== 'peer' || path.switchOnValidation) {
        const next = now + challengeInterval(s, path.attempts);
        path.challengeAt = next < path.deadline ? next : Infinity;
      }
    }
    const info = writeProbe(s, out, now, path.local, path.peer, dcid, size, path.responses, data);
    path.sent += info.length;
    // A path we only answered on (a client answering the server's probe of an address it left,
    // §9.3.3) is done: its CID is retired now, so the peer sends a replacement (§5.1.2).
    if (
      path.purpose === 'peer' &&
      path.responses.length === 0 &&
      path.deadline === Infinity &&
      !path.validated
    )
      removePath(s, path, now);
    return info;
  }
  return null;
}

/**
 * One probe datagram from `local` to `peer`: the PATH_RESPONSEs owed (§8.2.2, taken from
 * `responses`), a PATH_CHALLENGE, PADDING up to `size` (§8.2.1, §8.2.2).
 */
function writeProbe(
  s: ConnState,
  out: Uint8Array,
  now: number,
  local: Address,
  peer: Address,
  dcid: Uint8Array,
  size: number,
  responses: Uint8Array[] | null,
  challenge: Uint8Array | null,
): SendInfo {
  const keys = s.oneRtt as NonNullable<ConnState['oneRtt']>;
  const space = s.spaces[PacketNumberSpace.ApplicationData];
  const pn = space.nextPn++;
  const largest = s.recovery.largestAckedPacket(space.id);
  const pnLength = encodePacketNumberLength(pn, largest < 0 ? null : largest);
  const w = new Writer(out, 0);
  const pnOffset = writeShortHeader(w, {
    dcid,
    spin: false,
    keyPhase: keys.phase,
    quicBit: s.quicBit.next(),
    pnLength,
    pn,
  });
  const payloadStart = w.offset;
  const end = size - TAG_LENGTH;
  const qlog: QlogFrame[] | null = s.trace ? [] : null;
  // §8.2.2: one PATH_RESPONSE per PATH_CHALLENGE, on the path it arrived on.
  while (responses !== null && responses.length > 0 && end - w.offset >= 9) {
    const data = responses.shift() as Uint8Array;
    w.u8(FrameType.PATH_RESPONSE).bytes(data);
    qlog?.push({ frame_type: 'path_response', data: hex(data) });
  }
  if (challenge !== null && end - w.offset >= 9) {
    w.u8(FrameType.PATH_CHALLENGE).bytes(challenge);
    qlog?.push({ frame_type: 'path_challenge', data: hex(challenge) });
  }
  // §8.2.1, §8.2.2: expanded to 1200 bytes (or what the amplification limit allows); RFC 9001
  // §5.4.2: at least 4 bytes after the packet number for the header protection sample.
  const pad = Math.max(end - w.offset, 4 - pnLength - (w.offset - payloadStart));
  if (pad > 0) {
    w.fill(0, pad);
    qlog?.push({ frame_type: 'padding', raw: { length: pad, payload_length: pad } });
  }
  const length = protectPacket(keys.write, out, 0, pnOffset, pnLength, w.offset - payloadStart, pn);
  keys.onSealed(pn);
  const at = Math.max(now, s.lastSendAt);
  // Recorded so its acknowledgment is valid, but neither ack-eliciting for RTT nor in flight (§9.4);
  // on a path other than the active one, its acknowledgment declares no packet of the active path
  // lost (the two paths' packets can arrive out of order, §9.4).
  const otherPath = !sameAddress(local, s.local) || !sameAddress(peer, s.peer);
  s.recovery.onPacketSent(
    new SentPacket(space.id, pn, length, false, false, {
      ackLargest: -1,
      frames: [],
      oneRtt: true,
      type: '1rtt',
    }),
    at,
    otherPath,
  );
  s.stats.packetsSent++;
  s.stats.bytesSent += length;
  if (s.trace) {
    s.tracer.event(now, 'quic:packet_sent', {
      header: {
        packet_type: '1RTT',
        packet_number: pn,
        packet_number_length: pnLength,
        key_phase: s.oneRtt?.generation,
        dcid: hex(dcid),
      },
      frames: qlog ?? undefined,
      raw: { length, payload_length: w.offset - payloadStart },
    });
    s.tracer.event(now, 'quic:udp_datagrams_sent', { count: 1, raw: [{ length }] });
  }
  return { length, from: local, to: peer, at };
}

/**
 * A PATH_CHALLENGE arrived on a path other than the active one (RFC 9000 §8.2.2): the response
 * goes back there. A server also challenges that path (§9.6.3: a client probing a new address).
 */
export function onOtherPathChallenge(s: ConnState, data: Uint8Array, now: number): void {
  const local = s.recvTo;
  const peer = s.recvFrom;
  let path = findPath(s, local, peer);
  if (path === undefined) {
    path = addPath(s, local, peer, 'peer', now);
    path.received = s.recvLength; // the datagram that carried the challenge (§8.1)
    if (s.isServer) startChallenge(s, path, now);
  }
  if (path.responses.length >= LIMITS.pathResponses) path.responses.shift();
  path.responses.push(data.slice());
  path.expires = Math.max(path.expires, now + pathValidationTimeout(s));
}

/** Counts a datagram received on a tracked path (its 3x limit, §8.1). */
export function countOtherPathBytes(s: ConnState, from: Address, to: Address, length: number): void {
  const path = findPath(s, to, from);
  if (path !== undefined) path.received += length;
}

/** The earliest timer of the tracked paths (a challenge to resend, a validation to abandon, a record to forget). */
export function otherPathsTimer(s: ConnState): number {
  let t = Infinity;
  for (const p of s.otherPaths) {
    if (p.challengeAt < t) t = p.challengeAt;
    if (p.deadline < t) t = p.deadline;
    if (p.expires < t) t = p.expires;
  }
  return t;
}
