/**
 * What one connection remembers about version negotiation (RFC 9000 §6, RFC 9368, RFC 9369 §4).
 * The logic is in version-negotiation.ts; this file holds only the state, so that state.ts can
 * embed it without importing the connection's logic.
 */
import type { PacketKeys } from '../crypto/keys.ts';

/** Version negotiation state of one connection. */
export class VersionState {
  /** RFC 9368 §1.2 Original Version: the Version field of the client's very first packet. */
  originalVersion = 0;
  /** The client's Chosen Version of the current attempt (its first flight's Version field). */
  chosenVersion = 0;
  /** Client: an unsupported version written in our v1-format first flight (to provoke VN), else null. */
  headerVersion: number | null = null;
  /** Client: the Supported Versions of the Version Negotiation packet it acted on (RFC 9368 §2.1). */
  vnVersions: readonly number[] | null = null;
  /** Client: Version Negotiation packets ignored (RFC 9000 §6.2, RFC 9368 §4). */
  vnIgnored = 0;
  /** The version compatible negotiation switched the connection from (RFC 9368 §2.3), else null. */
  compatibleFrom: number | null = null;
  /** Server: Initial read keys of the client's Chosen Version, kept after a switch (RFC 9369 §4.1). */
  chosenInitialRead: PacketKeys | null = null;
  /** Server: the ClientHello held until it is whole, so the version is chosen before TLS answers. */
  pendingHello: Uint8Array[] | null = null;
  pendingHelloBytes = 0;
}
