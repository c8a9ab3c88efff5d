/**
 * Greasing (RFC 9287; RFC 9000 §6.3, §18.1): values a peer must ignore, sent so
 * that peers and middleboxes keep ignoring them.
 *
 * - grease_quic_bit (RFC 9287 §3): with Config.enableGrease(true) (the default) we advertise it,
 *   so we accept packets whose QUIC bit is 0; when the peer advertised it too, each 1-RTT packet
 *   we send gets a fresh random QUIC bit (§3.1). Long-header packets keep the bit set: §3.1
 *   allows clearing it there but does not ask for it, and the handshake's long headers are what
 *   on-path tools classify QUIC by. A server never remembers the extension across connections.
 * - A reserved transport parameter (id 31 * N + 27, RFC 9000 §18.1) with a random value in
 *   about half of our transport parameter sets.
 * - Reserved versions (0x?a?a?a?a, RFC 9000 §6.3, §15) go into Version Negotiation packets
 *   (core/endpoint).
 * QUIC v1 defines no reserved frame types: we never send frames a peer does not know.
 */
import type { CryptoProvider } from '../crypto/provider.ts';

/** The largest random value of the reserved transport parameter. */
const MAX_GREASE_VALUE = 16;

/** Random QUIC bits for 1-RTT packets (RFC 9287 §3.1), drawn 32 at a time. */
export class QuicBitGrease {
  /** The peer advertised grease_quic_bit and greasing is on: the bit is random. */
  enabled = false;
  private bits = 0;
  private left = 0;

  constructor(private readonly provider: CryptoProvider) {}

  /** The QUIC bit of the next short-header packet: true (set) unless greasing picks 0. */
  next(): boolean {
    if (!this.enabled) return true;
    if (this.left === 0) {
      const r = this.provider.randomBytes(4);
      this.bits = (r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24)) >>> 0;
      this.left = 32;
    }
    const bit = this.bits & 1;
    this.bits >>>= 1;
    this.left--;
    return bit === 1;
  }
}

/**
 * The `grease` option of encodeTransportParameters (RFC 9000 §18.1): random bytes for one
 * reserved parameter (2 pick its id, 0..16 more are its value) in about half of the calls,
 * undefined in the others.
 */
export function greaseTransportParameter(provider: CryptoProvider): Uint8Array | undefined {
  const pick = provider.randomBytes(2);
  if ((pick[0] & 1) === 0) return undefined;
  return provider.randomBytes(2 + (pick[1] % (MAX_GREASE_VALUE + 1)));
}
