/**
 * The active network path (RFC 9000 §8.2, §9). A server follows a peer that moved (a NAT
 * rebinding, or a client migrating with a new CID): it validates the new address with
 * PATH_CHALLENGE (sent again on a PTO schedule) under the 3x anti-amplification limit, returns
 * without validation to an address validated before, challenges the previous path with that
 * path's own CID (§9.3.3, §9.5), reverts to the last validated path when validation fails
 * (§9.3.2), and resets congestion control and RTT once a new address is validated (§9.4). It
 * moves to its preferred address only once that path is validated (§9.6.2), and drops active
 * migrations when it advertised disable_active_migration (§9). A client moves when its own probe
 * of a new path succeeds (migration.ts starts them), discards packets from unknown server
 * addresses (§9), and sends one PING when the server goes quiet mid-stream, so a NAT rebinding
 * during a download does not stall until the idle timeout.
 */
import { bytesEqual } from '../wire/buffer.ts';
import type { MigrationState } from '../trace/events.ts';
import { hex } from '../trace/format.ts';
import { copyAddress, sameAddress, sameIp, tupleEndpoint } from './address.ts';
import {
  addPath,
  countOtherPathBytes,
  findPath,
  newChallenge,
  otherPathsTimer,
  onOtherPathChallenge,
  pathValidationTimeout,
  removePath,
  startChallenge,
} from './path-probe.ts';
import type { OtherPath } from './path-probe.ts';
import { LIMITS, PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';
import type { Address } from './types.ts';

/** Peer addresses remembered as validated. */
const MAX_VALIDATED = 4;

/** Marks the peer address `addr` validated (the handshake path, or a PATH_RESPONSE from it). */
export function rememberValidated(s: ConnState, addr: Address): void {
  if (s.validatedPaths.some((a) => sameAddress(a, addr))) return;
  if (s.validatedPaths.length >= MAX_VALIDATED) s.validatedPaths.shift();
  s.validatedPaths.push(copyAddress(addr));
}

/** Traces a quic:migration_state_updated (quic-events-13 §5.20) for the path (local, peer). */
export function traceMigration(
  s: ConnState,
  now: number,
  state: MigrationState,
  local: Address,
  peer: Address,
  tupleId: string,
): void {
  if (!s.trace) return;
  s.tracer.event(now, 'quic:migration_state_updated', {
    new: state,
    tuple_id: tupleId,
    tuple_local: tupleEndpoint(local),
    tuple_remote: tupleEndpoint(peer),
  });
}

function traceDcidChange(s: ConnState, old: Uint8Array, now: number): void {
  const cid = s.peerCids.dcid;
  if (s.trace && !bytesEqual(old, cid))
    s.tracer.event(now, 'quic:connection_id_updated', { initiator: 'remote', old: hex(old), new: hex(cid) });
}

/** Whether the packet in progress arrived on the active path. */
function onActivePath(s: ConnState): boolean {
  return sameAddress(s.recvFrom, s.peer) && sameAddress(s.recvTo, s.local);
}

/**
 * RFC 9000 §9.4: a new path starts with the initial congestion window and RTT. The old path's
 * packets stay counted in flight until acknowledged or lost, but neither grow nor shrink the new
 * window, nor feed its RTT estimator (LossRecovery tells them apart since onPathChange).
 */
export function resetRecoveryForNewPath(s: ConnState, now: number): void {
  const r = s.recovery;
  r.resetForNewPath(now);
  r.setMaxDatagramSize(s.maxDatagramSize, now); // recomputes the pacing rate, reports the metrics
}

/**
 * The active path just changed (RFC 9000 §9.4): packets in flight on the previous one are judged
 * against that path's own packets and RTT, so ACKs overtaking them on the faster path are not
 * taken for losses ("apparent reordering" during migration), and they no longer drive congestion
 * control or RTT estimation.
 */
function onActivePathChanged(s: ConnState, now: number): void {
  s.recovery.onPathChange(now);
}

/** Whether moving from path a to path b changes more than ports (§9.4: port-only keeps the state). */
function ipChanged(aLocal: Address, aPeer: Address, bLocal: Address, bPeer: Address): boolean {
  return !sameIp(aLocal.address, bLocal.address) || !sameIp(aPeer.address, bPeer.address);
}

/**
 * Called for each authenticated packet: `nonProbing` when it is a 1-RTT non-probing packet with
 * the highest packet number so far (RFC 9000 §9.3: only that one moves the connection).
 */
export function onPacketPath(
  s: ConnState,
  dcid: Uint8Array,
  from: Address,
  to: Address,
  now: number,
  received: number,
  nonProbing: boolean,
  ackEliciting: boolean,
): void {
  if (!s.isServer) {
    // The client's liveness check: armed while the server sends ack-eliciting packets.
    s.livenessAt =
      ackEliciting && s.handshakeConfirmed
        ? now + 3 * s.recovery.ptoPeriod(PacketNumberSpace.ApplicationData)
        : null;
    return;
  }
  if (!nonProbing || !s.handshakeConfirmed) return;
  if (!sameAddress(from, s.peer) || !sameAddress(to, s.local)) onPeerMoved(s, dcid, from, to, now, received);
  const active = s.peerActiveDcid;
  if (sameAddress(from, s.peer) && sameAddress(to, s.local) && (active === null || !bytesEqual(active, dcid)))
    s.peerActiveDcid = dcid.slice();
}

/**
 * Server, RFC 9000 §9 and §18.2: with disable_active_migration advertised, a packet arriving at
 * the handshake address from another client address with another DCID than the client uses on
 * the active path is an active migration: it is dropped (never answered with a stateless reset,
 * never closing the connection). A NAT rebinding keeps the DCID and is followed; the preferred
 * address is exempt.
 */
export function activeMigrationRefused(s: ConnState, dcid: Uint8Array, from: Address, to: Address): boolean {
  if (!s.isServer || !s.handshakeConfirmed || s.localParams?.disableActiveMigration !== true) return false;
  if (sameAddress(from, s.peer) && sameAddress(to, s.local)) return false;
  if (!sameAddress(to, s.handshakeLocal)) return false;
  const active = s.peerActiveDcid;
  return active !== null && !bytesEqual(active, dcid);
}

/** Counts a received datagram toward the 3x limit of its path (RFC 9000 §8.1, §9.3.1). */
export function countPathBytes(s: ConnState, from: Address, to: Address, length: number): void {
  if (sameAddress(from, s.peer) && sameAddress(to, s.local)) {
    if (!s.pathValidated) s.pathReceived += length;
  } else if (s.otherPaths.length > 0) {
    countOtherPathBytes(s, from, to, length);
  }
}

/** Client, RFC 9000 §9: whether a datagram from `from` may come from the server. */
export function fromKnownServerAddress(s: ConnState, from: Address): boolean {
  if (sameAddress(from, s.peer) || sameAddress(from, s.handshakePeer)) return true;
  for (const p of s.otherPaths) if (sameAddress(p.peer, from)) return true;
  return false;
}

/** Server: a non-probing packet with a new highest packet number arrived on another path (§9.3). */
function onPeerMoved(
  s: ConnState,
  dcid: Uint8Array,
  from: Address,
  to: Address,
  now: number,
  received: number,
): void {
  const record = findPath(s, to, from);
  if (!sameAddress(to, s.local) && record?.validated !== true) {
    // §9.6.2: non-probing packets leave from the original address until the new path is validated.
    const path = record ?? addPath(s, to, from, 'peer', now);
    if (record === undefined) path.received = received;
    // §9.6.2: "The server MUST probe on the path toward the client from its preferred address":
    // challenged now and again (path-probe.ts) until validated or abandoned.
    if (!path.switchOnValidation) startChallenge(s, path, now);
    path.switchOnValidation = true;
    return;
  }
  // A NAT rebinding: the client still sends to the CID it used on the previous path (§9.5).
  const rebinding = s.peerActiveDcid !== null && bytesEqual(s.peerActiveDcid, dcid);
  switchPath(s, to, from, record ?? null, now, received, rebinding);
}

/**
 * Server: makes (local, peer) the active path (RFC 9000 §9.3). `record` is the tracked path
 * (validated, and holding its CID, when the client probed it first).
 */
function switchPath(
  s: ConnState,
  local: Address,
  peer: Address,
  record: OtherPath | null,
  now: number,
  received: number,
  rebinding: boolean,
): void {
  const previous = { local: s.local, peer: s.peer, tupleId: s.tupleId };
  const previousValidated = s.pathValidated;
  const peerChanged = !sameAddress(peer, s.peer);
  // Validated by its probe (the client probed it first), or a return to a validated address.
  const probed = record?.validated === true;
  const returning =
    !probed && sameAddress(local, s.local) && s.validatedPaths.some((a) => sameAddress(a, peer));
  const validated = probed || returning;
  s.local = copyAddress(local);
  s.peer = copyAddress(peer);
  s.stats.pathChanges++;
  onActivePathChanged(s, now);
  // §9.3.3: the previous path is validated again (when it was valid), with its own CID (§9.5).
  const probePrevious = peerChanged && previousValidated;
  const oldDcid = s.peerCids.dcid;
  let keptSeq: number | null = null;
  let seq =
    record !== null && record.dcidSeq >= 0 && s.peerCids.cidOf(record.dcidSeq) !== null ? record.dcidSeq : -1;
  // §9.5: a new CID for the new path. With none spare the CID stays: §9.5 allows it after a NAT
  // rebinding; after an intentional move the client left us no other (§9.3).
  if (seq < 0) seq = s.peerCids.reserve() ?? -1;
  if (seq >= 0) keptSeq = s.peerCids.switchTo(seq, probePrevious);
  traceDcidChange(s, oldDcid, now);
  if (record !== null) {
    for (const r of record.responses) {
      if (s.pathResponses.length >= LIMITS.pathResponses) s.pathResponses.shift();
      s.pathResponses.push(r);
    }
    removePath(s, record, now, true);
    s.tupleId = record.tupleId;
  } else {
    s.tupleId = String(s.nextTupleId++);
    if (s.trace)
      s.tracer.event(now, 'quic:tuple_assigned', {
        tuple_id: s.tupleId,
        tuple_local: tupleEndpoint(local),
        tuple_remote: tupleEndpoint(peer, [s.peerCids.dcid]),
      });
  }
  s.pathChallengePending = null;
  s.pathChallengeRetryAt = null;
  s.pathValidationDeadline = null;
  s.pathChallengeSmall = false;
  if (validated) {
    s.pathValidated = true;
    s.lastValidatedPath = { local: s.local, peer: s.peer, tupleId: s.tupleId };
    rememberValidated(s, peer);
    // §9.4: a new path validated by its probe starts afresh; a return to a known one does not.
    if (probed) {
      s.stats.migrationsInitiated++;
      s.stats.migrationsValidated++;
      if (ipChanged(previous.local, previous.peer, local, peer)) resetRecoveryForNewPath(s, now);
    }
    traceMigration(s, now, 'migration_complete', local, peer, s.tupleId);
  } else {
    if (previousValidated) s.lastValidatedPath = previous;
    s.stats.migrationsInitiated++;
    s.pathValidated = false;
    s.pathReceived = received; // the datagram that moved us counts toward the 3x limit (§8.1)
    s.pathSent = 0;
    s.pathResetOnValidation = ipChanged(previous.local, previous.peer, local, peer);
    s.pathChallengePending = newChallenge(s, local, peer);
    s.pathChallengeAttempts = 1;
    s.pathValidationDeadline = now + pathValidationTimeout(s);
    s.pathChallengeRetryAt = now + s.recovery.ptoPeriod(PacketNumberSpace.ApplicationData);
    traceMigration(s, now, 'migration_started', local, peer, s.tupleId);
  }
  if (probePrevious) {
    const old = findPath(s, previous.local, previous.peer);
    if (old !== undefined) removePath(s, old, now);
    const probe = addPath(s, previous.local, previous.peer, 'previous', now, keptSeq ?? -1);
    if (keptSeq !== null) probe.dcidUsed = true; // it was sent on that path already
    probe.mayShareCid = rebinding;
    startChallenge(s, probe, now);
  }
}

/** A PATH_CHALLENGE (RFC 9000 §8.2.2): answered on the path it arrived on. */
export function onPathChallenge(s: ConnState, data: Uint8Array, now: number): void {
  if (!onActivePath(s)) {
    onOtherPathChallenge(s, data, now);
    return;
  }
  if (s.pathResponses.length >= LIMITS.pathResponses) s.pathResponses.shift();
  s.pathResponses.push(data.slice());
}

/** PATH_RESPONSE (RFC 9000 §8.2.3): validates the path its challenge was sent on, wherever it arrived. */
export function onPathResponse(s: ConnState, data: Uint8Array, now: number): void {
  const i = s.pathChallenges.findIndex((c) => bytesEqual(c.data, data));
  if (i < 0) return;
  const { local, peer } = s.pathChallenges[i];
  s.pathChallenges.splice(i, 1);
  if (sameAddress(local, s.local) && sameAddress(peer, s.peer)) {
    rememberValidated(s, peer);
    if (s.pathValidated) return;
    s.pathValidated = true;
    s.pathValidationDeadline = null;
    s.pathChallengeRetryAt = null;
    s.pathChallengePending = null;
    s.lastValidatedPath = { local: s.local, peer: s.peer, tupleId: s.tupleId };
    s.stats.migrationsValidated++;
    // §8.2.1: validated by a small datagram (the 3x limit): a second challenge checks the MTU.
    if (s.pathChallengeSmall) s.pathChallengePending = newChallenge(s, s.local, s.peer);
    s.pathChallengeSmall = false;
    // §9.4: on confirming the peer's ownership of its new address.
    if (s.pathResetOnValidation) resetRecoveryForNewPath(s, now);
    s.pathResetOnValidation = false;
    traceMigration(s, now, 'migration_complete', s.local, s.peer, s.tupleId);
    return;
  }
  const path = findPath(s, local, peer);
  if (path === undefined) return;
  path.validated = true;
  path.deadline = Infinity;
  path.challengeAt = Infinity;
  path.challengeDue = false;
  if (sameAddress(local, s.local)) rememberValidated(s, peer);
  switch (path.purpose) {
    case 'migrate':
    case 'preferred':
      moveToProbedPath(s, path, now);
      return;
    case 'previous':
      removePath(s, path, now); // §9.3.3 done: the path works; its CID is retired
      return;
    case 'peer':
      if (path.switchOnValidation) switchPath(s, path.local, path.peer, path, now, 0, false);
      else path.expires = now + pathValidationTimeout(s);
      return;
  }
}

/** Client: its probe of a new path succeeded; it sends everything there from now on (§9.2, §9.6.1). */
function moveToProbedPath(s: ConnState, path: OtherPath, now: number): void {
  traceMigration(s, now, 'probing_successful', path.local, path.peer, path.tupleId);
  const changed = ipChanged(s.local, s.peer, path.local, path.peer);
  const oldDcid = s.peerCids.dcid;
  s.peerCids.switchTo(path.dcidSeq, false); // the old CID is retired: never used on the new path (§9.5)
  traceDcidChange(s, oldDcid, now);
  s.local = copyAddress(path.local);
  s.peer = copyAddress(path.peer);
  s.tupleId = path.tupleId;
  onActivePathChanged(s, now);
  for (const r of path.responses) {
    if (s.pathResponses.length >= LIMITS.pathResponses) s.pathResponses.shift();
    s.pathResponses.push(r);
  }
  removePath(s, path, now, true);
  s.stats.pathChanges++;
  s.stats.migrationsValidated++;
  // §9.4 (and §9.6: a new server address is a new path too), unless only a port changed.
  if (changed) resetRecoveryForNewPath(s, now);
  traceMigration(s, now, 'migration_complete', s.local, s.peer, s.tupleId);
}

/** The earliest path timer: challenges to resend, validations to abandon, the client's liveness check. */
export function pathTimer(s: ConnState): number | null {
  let t = otherPathsTimer(s);
  if (s.pathValidationDeadline !== null && s.pathValidationDeadline < t) t = s.pathValidationDeadline;
  if (s.pathChallengeRetryAt !== null && s.pathChallengeRetryAt < t) t = s.pathChallengeRetryAt;
  if (s.livenessAt !== null && s.livenessAt < t) t = s.livenessAt;
  return t === Infinity ? null : t;
}

/** Runs the path timers due at `now`. */
export function onPathTimeout(s: ConnState, now: number): void {
  const retry = s.pathChallengeRetryAt;
  if (retry !== null && now >= retry) {
    // §8.2.1: another challenge, with new data, against the loss of one.
    s.pathChallengePending = newChallenge(s, s.local, s.peer);
    s.pathChallengeAttempts++;
    const next =
      now + s.recovery.ptoPeriod(PacketNumberSpace.ApplicationData) * 2 ** (s.pathChallengeAttempts - 1);
    const deadline = s.pathValidationDeadline ?? -Infinity;
    s.pathChallengeRetryAt = next < deadline ? next : null;
  }
  const d = s.pathValidationDeadline;
  if (d !== null && now >= d) revertPath(s, now);
  // Backwards: removePath takes records out of the array.
  for (let i = s.otherPaths.length - 1; i >= 0; i--) {
    const p = s.otherPaths[i];
    if (p.challengeAt <= now) {
      p.challengeDue = true;
      p.challengeAt = Infinity;
    }
    if (p.deadline <= now) {
      // §8.2.4: validation abandoned: the path is unusable.
      if (p.purpose === 'migrate' || p.purpose === 'preferred') {
        s.stats.migrationsFailed++;
        traceMigration(s, now, 'probing_abandoned', p.local, p.peer, p.tupleId);
      }
      removePath(s, p, now);
    } else if (p.expires <= now && p.deadline === Infinity) {
      removePath(s, p, now);
    }
  }
  const live = s.livenessAt;
  if (live !== null && now >= live) {
    s.livenessAt = null;
    // Quiet mid-stream with nothing of ours in flight: one PING (it goes out on our current path,
    // so a server that lost us to a NAT rebinding sees the new address, §9.3). Our own loss
    // recovery repeats it if needed.
    if (!s.recovery.hasAckElicitingInFlight() && awaitingData(s) && !s.isClosingOrGone) s.pingPending = true;
  }
}

/** Whether some stream still expects data from the peer. */
function awaitingData(s: ConnState): boolean {
  for (const st of s.streams.values()) {
    const state = st.recv?.state;
    if (state === 'receive' || state === 'size_known') return true;
  }
  return false;
}

/** §9.3.2: validating the current path failed: back to the last validated one. */
function revertPath(s: ConnState, now: number): void {
  const failed = { local: s.local, peer: s.peer, tupleId: s.tupleId };
  s.pathValidationDeadline = null;
  s.pathChallengeRetryAt = null;
  s.pathChallengePending = null;
  s.stats.migrationsFailed++;
  const back = s.lastValidatedPath ?? {
    local: s.local,
    peer: s.validatedPaths[s.validatedPaths.length - 1] ?? s.handshakePeer,
    tupleId: '',
  };
  const record = findPath(s, back.local, back.peer);
  if (record !== undefined) {
    // The previous path keeps its own CID (§9.5); the failed path's is retired.
    const oldDcid = s.peerCids.dcid;
    if (record.dcidSeq >= 0 && s.peerCids.cidOf(record.dcidSeq) !== null)
      s.peerCids.switchTo(record.dcidSeq, false);
    traceDcidChange(s, oldDcid, now);
    removePath(s, record, now, true);
  }
  s.tupleId = back.tupleId;
  s.local = copyAddress(back.local);
  s.peer = copyAddress(back.peer);
  onActivePathChanged(s, now);
  s.pathValidated = true;
  s.pathResetOnValidation = false;
  s.stats.pathChanges++;
  traceMigration(s, now, 'migration_abandoned', failed.local, failed.peer, failed.tupleId);
}
