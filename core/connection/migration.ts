/**
 * Connection migration a client initiates (RFC 9000 §9): `migrate()` to a new local address and
 * the move to the server's preferred address (§9.6), and the server's side of preferred_address
 * (the transport parameter, §18.2). Both probe first: PATH_CHALLENGE from / to the new address
 * with a peer CID never used on another path (§9.5), data staying on the current path meanwhile
 * (§9.1); the client moves once the PATH_RESPONSE arrives (path.ts), resetting congestion control
 * and RTT unless only a port changed (§9.4). A probe that times out (§8.2.4) leaves the
 * connection where it was. Refusals are typed `MigrationError`s.
 */
import type { PreferredAddress } from '../wire/transport-params.ts';
import { ipBytes, ipText, isIpv6, sameAddress } from './address.ts';
import { addPath, findPath, removePath, startChallenge } from './path-probe.ts';
import { traceMigration } from './path.ts';
import type { ConnState } from './state.ts';
import type { Address } from './types.ts';

/** Why `migrate()` was refused. */
export type MigrationErrorKind =
  /** Only a client migrates (RFC 9000 §9). */
  | 'not_client'
  /** RFC 9000 §9: not before the handshake is confirmed. */
  | 'handshake_not_confirmed'
  /** The peer sent disable_active_migration (RFC 9000 §9, §18.2). */
  | 'disabled_by_peer'
  /** No unused peer connection ID for the new path (RFC 9000 §9.5); NEW_CONNECTION_ID brings more. */
  | 'no_spare_cid'
  /** The peer uses zero-length connection IDs (RFC 9000 §9.5: SHOULD NOT migrate). */
  | 'zero_length_cid'
  /** The address is the current local address. */
  | 'same_path'
  /** The connection is closing or closed. */
  | 'closed';

/** A migration the application asked for that cannot be done (not a peer error). */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly kind: MigrationErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Client: starts migrating to local address `local` (RFC 9000 §9.2): probes the path from there to
 * the server with a fresh CID; the connection moves once it is validated. An earlier probe of
 * another local address (or of the preferred address) is abandoned (§8.2.4).
 */
export function startMigration(s: ConnState, local: Address, now: number): void {
  if (s.isServer) throw new MigrationError('not_client', 'only a client initiates migration (RFC 9000 §9)');
  if (s.isClosingOrGone) throw new MigrationError('closed', 'the connection is closed');
  if (!s.handshakeConfirmed)
    throw new MigrationError(
      'handshake_not_confirmed',
      'RFC 9000 §9: no migration before the handshake is confirmed',
    );
  if (sameAddress(local, s.local)) throw new MigrationError('same_path', 'already on that local address');
  // RFC 9000 §9: unless we moved to its preferred address, the peer's handshake address is off limits.
  if (s.peerParams?.disableActiveMigration === true && sameAddress(s.peer, s.handshakePeer))
    throw new MigrationError('disabled_by_peer', 'the server sent disable_active_migration (RFC 9000 §9)');
  if (s.peerCids.dcid.length === 0)
    throw new MigrationError('zero_length_cid', 'the server uses zero-length connection IDs (RFC 9000 §9.5)');
  const seq = s.peerCids.reserve();
  if (seq === null)
    throw new MigrationError(
      'no_spare_cid',
      'no unused connection ID from the server for a new path (RFC 9000 §9.5)',
    );
  for (const p of [...s.otherPaths]) {
    if (p.purpose !== 'migrate' && p.purpose !== 'preferred') continue;
    traceMigration(s, now, 'probing_abandoned', p.local, p.peer, p.tupleId);
    removePath(s, p, now);
  }
  const stale = findPath(s, local, s.peer);
  if (stale !== undefined) removePath(s, stale, now);
  const path = addPath(s, local, s.peer, 'migrate', now, seq);
  startChallenge(s, path, now);
  s.stats.migrationsInitiated++;
  traceMigration(s, now, 'probing_started', path.local, path.peer, path.tupleId);
}

/** Whether a preferred_address half is offered (all-zero address and port mean not, RFC 9000 §18.2). */
function offered(address: Uint8Array, port: number): boolean {
  return port !== 0 && address.some((b) => b !== 0);
}

/** The preferred address of the current peer's family (RFC 9000 §9.6.3), or null. */
export function choosePreferredAddress(pa: PreferredAddress, current: Address): Address | null {
  if (isIpv6(current))
    return offered(pa.ipv6Address, pa.ipv6Port)
      ? { address: ipText(pa.ipv6Address), port: pa.ipv6Port }
      : null;
  return offered(pa.ipv4Address, pa.ipv4Port) ? { address: ipText(pa.ipv4Address), port: pa.ipv4Port } : null;
}

/**
 * Client, once the handshake is confirmed (RFC 9000 §9.6.1): probes the server's preferred address
 * (the one of the current address family) with an unused CID, unless the Config says not to.
 */
export function startPreferredAddress(s: ConnState, now: number): void {
  if (s.isServer || s.preferredAddressDone) return;
  s.preferredAddressDone = true;
  const pa = s.peerParams?.preferredAddress ?? null;
  if (pa === null || !s.config.usePreferredAddress || s.isClosingOrGone) return;
  const peer = choosePreferredAddress(pa, s.peer);
  if (peer === null || sameAddress(peer, s.peer)) return;
  const seq = s.peerCids.reserve();
  if (seq === null) return; // cannot happen: the parameter's CID is spare (sequence 1)
  const path = addPath(s, s.local, peer, 'preferred', now, seq);
  startChallenge(s, path, now);
  s.stats.migrationsInitiated++;
  traceMigration(s, now, 'probing_started', path.local, path.peer, path.tupleId);
}

/**
 * Server: the preferred_address transport parameter (RFC 9000 §18.2) from the Config, with the CID
 * of sequence number 1 and its reset token (§5.1.1); null when none is configured or our CIDs are
 * zero-length (the parameter needs one).
 */
export function preferredAddressParameter(s: ConnState): PreferredAddress | null {
  const pref = s.config.preferredAddress;
  if (!s.isServer || pref === null) return null;
  const issued = s.localCids.issuePreferred();
  if (issued === null) return null;
  return {
    ipv4Address: pref.ipv4 !== null ? ipBytes(pref.ipv4.address) : new Uint8Array(4),
    ipv4Port: pref.ipv4?.port ?? 0,
    ipv6Address: pref.ipv6 !== null ? ipBytes(pref.ipv6.address) : new Uint8Array(16),
    ipv6Port: pref.ipv6?.port ?? 0,
    connectionId: issued.cid,
    statelessResetToken: issued.token,
  };
}
