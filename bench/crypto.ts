/**
 * Crypto benchmarks: per provider, µs to protect and to unprotect a 1200-byte 1-RTT packet
 * (AES-128-GCM and ChaCha20-Poly1305) and the implied packets per second; plus a
 * header-protection mask alone.
 */

import { nobleProvider } from '../core/crypto/noble.ts';
import { nodeProvider } from '../core/crypto/node.ts';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_CHACHA20_POLY1305_SHA256,
  derivePacketKeys,
} from '../core/crypto/keys.ts';
import type { QuicCipherSuite } from '../core/crypto/keys.ts';
import { openPayload, protectPacket, unprotectHeader } from '../core/crypto/packet-protection.ts';
import type { CryptoProvider } from '../core/crypto/provider.ts';
import { QUIC_VERSION_1 } from '../core/wire/version.ts';
import type { Bench, Measurement } from './harness.ts';

const PACKET = 1200;
const DCID_LENGTH = 8;
const PN_OFFSET = 1 + DCID_LENGTH;
const PN_LENGTH = 4;
const HEADER = PN_OFFSET + PN_LENGTH;
const PAYLOAD = PACKET - HEADER - 16;

const SUITES: [string, QuicCipherSuite][] = [
  ['aes128gcm', TLS_AES_128_GCM_SHA256],
  ['chacha20', TLS_CHACHA20_POLY1305_SHA256],
];

/** Writes a short header (RFC 9000 §17.3.1) with a 4-byte packet number. */
function writeHeader(buf: Uint8Array, pn: number): void {
  buf[0] = 0x40 | (PN_LENGTH - 1);
  for (let i = 0; i < DCID_LENGTH; i++) buf[1 + i] = i;
  buf[PN_OFFSET] = pn >>> 24;
  buf[PN_OFFSET + 1] = (pn >>> 16) & 0xff;
  buf[PN_OFFSET + 2] = (pn >>> 8) & 0xff;
  buf[PN_OFFSET + 3] = pn & 0xff;
}

function benchProvider(bench: Bench, p: CryptoProvider, iterations: number): Map<string, Measurement> {
  const figures = new Map<string, Measurement>();
  const keep = (m: Measurement): void => {
    figures.set(m.name.slice(m.name.indexOf('.', 'crypto.'.length) + 1), m);
  };
  for (const [tag, suite] of SUITES) {
    const keys = derivePacketKeys(p, suite, QUIC_VERSION_1, new Uint8Array(32).fill(0x5a));

    // Send path: write the header, seal the payload in place, apply header protection.
    const tx = new Uint8Array(PACKET);
    tx.fill(0x01, HEADER, HEADER + PAYLOAD);
    keep(
      bench.measure(
        `${p.name}.protect_1rtt_${PACKET}B_${tag}`,
        (i) => {
          writeHeader(tx, i);
          protectPacket(keys, tx, 0, PN_OFFSET, PN_LENGTH, PAYLOAD, i);
        },
        { iterations, rateUnit: 'pkt/s' },
      ),
    );

    // Receive path: remove header protection, then open. Restore the protected header
    // (13 bytes) before each call, since unprotectHeader works in place.
    const rx = new Uint8Array(PACKET);
    rx.fill(0x01, HEADER, HEADER + PAYLOAD);
    writeHeader(rx, 7);
    protectPacket(keys, rx, 0, PN_OFFSET, PN_LENGTH, PAYLOAD, 7);
    const protectedHeader = rx.slice(0, HEADER);
    keep(
      bench.measure(
        `${p.name}.unprotect_1rtt_${PACKET}B_${tag}`,
        () => {
          rx.set(protectedHeader);
          const h = unprotectHeader(keys.hp, rx, 0, PN_OFFSET);
          if (!h) throw new Error('bench: no sample');
          if (!openPayload(keys, rx, 0, PN_OFFSET, h.pnLength, PACKET, h.truncatedPn)) {
            throw new Error('bench: packet failed authentication');
          }
        },
        { iterations, rateUnit: 'pkt/s' },
      ),
    );

    const sample = rx.subarray(PN_OFFSET + 4, PN_OFFSET + 20);
    keep(
      bench.measure(`${p.name}.hp_mask_${tag}`, () => keys.hp.mask(sample), {
        iterations: iterations * 10,
        rateUnit: 'op/s',
      }),
    );
  }
  return figures;
}

/** Runs the crypto group. */
export function run(bench: Bench): void {
  bench.note(`1-RTT packet: ${PACKET} bytes = ${HEADER}-byte short header + ${PAYLOAD} payload + 16 tag`);
  const node = benchProvider(bench, nodeProvider, 20_000);
  const noble = benchProvider(bench, nobleProvider, 2_000);
  // Ratios of figures measured side by side in this run (more stable than absolute times).
  for (const [name, a] of node) {
    const b = noble.get(name);
    if (b && Number.isFinite(a.usPerOp) && Number.isFinite(b.usPerOp)) {
      bench.note(`noble/node ${name}: ${(b.usPerOp / a.usPerOp).toFixed(2)}x`);
    }
  }
}
