/**
 * Initial secrets and keys (RFC 9001 §5.2; RFC 9369 §3.3.1 for QUIC v2), derived from the
 * client's first Destination Connection ID with a version-specific salt.
 */

import { fromHex } from '../wire/buffer.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../wire/version.ts';
import { expandLabel } from './hkdf.ts';
import { TLS_AES_128_GCM_SHA256, derivePacketKeys } from './keys.ts';
import type { PacketKeys } from './keys.ts';
import type { CryptoProvider } from './provider.ts';

/** initial_salt of QUIC v1 (RFC 9001 §5.2). */
export const INITIAL_SALT_V1: Uint8Array = fromHex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
/** initial_salt of QUIC v2 (RFC 9369 §3.3.1). */
export const INITIAL_SALT_V2: Uint8Array = fromHex('0dede3def700a6db819381be6e269dcbf9bd2ed9');

/** The salt for `version`; RangeError for a version we do not speak. */
export function initialSalt(version: number): Uint8Array {
  if (version === QUIC_VERSION_1) return INITIAL_SALT_V1;
  if (version === QUIC_VERSION_2) return INITIAL_SALT_V2;
  throw new RangeError(`no Initial salt for QUIC version 0x${version.toString(16)}`);
}

/** The client and server Initial secrets. */
export interface InitialSecrets {
  readonly client: Uint8Array;
  readonly server: Uint8Array;
}

/**
 * RFC 9001 §5.2: initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id);
 * client/server secrets = HKDF-Expand-Label(initial_secret, "client in"/"server in", "", 32).
 * The labels are the same in v2 (RFC 9369 §3.3.2 changes only the packet-protection labels).
 */
export function initialSecrets(provider: CryptoProvider, version: number, dcid: Uint8Array): InitialSecrets {
  const initial = provider.hkdfExtract('sha256', initialSalt(version), dcid);
  return {
    client: expandLabel(provider, 'sha256', initial, 'client in', 32),
    server: expandLabel(provider, 'sha256', initial, 'server in', 32),
  };
}

/** Initial packet keys for both directions (AEAD_AES_128_GCM, RFC 9001 §5.2). */
export function initialKeys(
  provider: CryptoProvider,
  version: number,
  dcid: Uint8Array,
): { client: PacketKeys; server: PacketKeys } {
  const s = initialSecrets(provider, version, dcid);
  return {
    client: derivePacketKeys(provider, TLS_AES_128_GCM_SHA256, version, s.client),
    server: derivePacketKeys(provider, TLS_AES_128_GCM_SHA256, version, s.server),
  };
}
