/**
 * TLS 1.3 handshake benchmarks (core/tls): whole handshakes per second with client and server
 * in one process (so each figure is the CPU of both ends), no QUIC packets, verification on:
 * X25519, ECDSA P-256 certificate chain (leaf + intermediate, root trusted). Also the same with
 * resumption (PSK + X25519, no certificate), with 0-RTT, after a HelloRetryRequest (P-256),
 * and with the noble provider for comparison.
 */

import { nobleProvider } from '../core/crypto/noble.ts';
import { nodeProvider } from '../core/crypto/node.ts';
import type { CryptoProvider, NamedGroup } from '../core/crypto/provider.ts';
import { ReplayFilter, createClientSession, createServerSession } from '../core/tls/index.ts';
import type { SessionTicket, TlsSession } from '../core/tls/index.ts';
import { testPki } from '../test/helpers/certs.ts';
import type { Bench } from './harness.ts';
import { cpuUsage } from 'node:process';

const NOW = Date.UTC(2025, 0, 1);
const TICKET_KEY = new Uint8Array(32).fill(1);
const TP = new Uint8Array([0x01, 0x02, 0x75, 0x30, 0x04, 0x04, 0x80, 0x10, 0x00, 0x00]);

interface Setup {
  provider: CryptoProvider;
  serverGroups?: NamedGroup[];
  ticket?: SessionTicket;
  earlyData?: boolean;
  replayFilter?: ReplayFilter;
}

/** Runs one handshake to completion; returns the client's ticket. */
function handshake(s: Setup): SessionTicket | null {
  const pki = testPki('ec-p256', s.provider);
  const client = createClientSession(
    {
      provider: s.provider,
      alpnProtocols: ['h3'],
      serverName: 'localhost',
      trustAnchors: pki.roots,
      ticket: s.ticket ?? null,
      enableEarlyData: s.earlyData === true,
    },
    TP,
  );
  const server = createServerSession(
    {
      provider: s.provider,
      alpnProtocols: ['h3'],
      certificateChain: pki.chain,
      privateKey: pki.leaf.key,
      groups: s.serverGroups,
      ticketKey: TICKET_KEY,
      enableEarlyData: s.earlyData === true,
      replayFilter: s.replayFilter,
    },
    TP,
  );
  let ticket: SessionTicket | null = null;
  const pump = (from: TlsSession, to: TlsSession): boolean => {
    let any = false;
    for (let ev = from.poll(); ev !== null; ev = from.poll()) {
      any = true;
      if (ev.kind === 'handshake_data') to.receive(ev.level, ev.data, NOW + 1);
      else if (ev.kind === 'ticket') ticket = ev.ticket;
    }
    return any;
  };
  client.start(NOW);
  while (pump(client, server) || pump(server, client));
  if (!client.handshakeComplete || !server.handshakeComplete) throw new Error('bench: handshake incomplete');
  if (s.ticket !== undefined && !server.resumed) throw new Error('bench: not resumed');
  if (s.ticket !== undefined && s.earlyData === true && server.earlyData !== 'accepted')
    throw new Error('bench: 0-RTT not accepted');
  return ticket;
}

/** One figure: a name, the work of one op, and how many ops per timed round. */
interface Case {
  readonly name: string;
  readonly fn: () => void;
  readonly iterations: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Process CPU time (user + system) per op, the cases interleaved round by round so that a
 * change in machine load hits them all alike; the median round of each.
 */
function cpuTimes(cases: readonly Case[], rounds: number): Map<string, number> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const n = Math.max(1, c.iterations >> 2);
      const t0 = cpuUsage();
      for (let i = 0; i < n; i++) c.fn();
      const d = cpuUsage(t0);
      samples.get(c.name)!.push((d.user + d.system) / n);
    }
  }
  return new Map([...samples].map(([k, v]) => [k, median(v)]));
}

/** Runs the handshake group. */
export function run(bench: Bench): void {
  bench.note('one op = a whole TLS 1.3 handshake, client + server in one process, verification on');
  const node: Setup = { provider: nodeProvider };
  const ticket = handshake(node)!;
  // The public-key operations a handshake cannot avoid: what is left above them is the TLS
  // machinery (hashing, HKDF, codecs, certificate parsing, tickets).
  const pki = testPki('ec-p256', nodeProvider);
  const content = new Uint8Array(130);
  const sig = nodeProvider.sign('ecdsa_secp256r1_sha256', pki.leaf.key, content);
  const spki = pki.leaf.cert.publicKey.spki;
  const dhe = (): void => {
    const a = nodeProvider.generateKeyShare('x25519');
    const b = nodeProvider.generateKeyShare('x25519');
    a.sharedSecret(b.publicKey);
    b.sharedSecret(a.publicKey);
  };
  const cases: Case[] = [
    { name: 'node.full_x25519_ecdsa_p256', fn: () => handshake(node), iterations: 200 },
    { name: 'node.resumed_psk_dhe_x25519', fn: () => handshake({ ...node, ticket }), iterations: 400 },
    {
      // A fresh replay filter each time, so that the same ticket is accepted every time.
      name: 'node.resumed_0rtt_x25519',
      fn: () =>
        handshake({ ...node, ticket: zeroRttTicket, earlyData: true, replayFilter: new ReplayFilter() }),
      iterations: 400,
    },
    {
      name: 'node.full_hrr_p256',
      fn: () => handshake({ ...node, serverGroups: ['secp256r1'] }),
      iterations: 200,
    },
    {
      name: 'noble.full_x25519_ecdsa_p256',
      fn: () => handshake({ provider: nobleProvider }),
      iterations: 12,
    },
    { name: 'node.floor_2x_x25519', fn: dhe, iterations: 400 },
    {
      name: 'node.floor_2x_x25519_1_sign_3_verify',
      fn: () => {
        dhe();
        nodeProvider.sign('ecdsa_secp256r1_sha256', pki.leaf.key, content);
        for (let i = 0; i < 3; i++) nodeProvider.verify('ecdsa_secp256r1_sha256', spki, content, sig);
      },
      iterations: 200,
    },
  ];
  const wall = new Map<string, number>();
  for (const c of cases) {
    const m = bench.measure(c.name, c.fn, {
      iterations: c.iterations,
      warmup: Math.max(2, c.iterations >> 3),
      rateUnit: c.name.includes('floor') ? 'op/s' : 'hs/s',
    });
    if (Number.isFinite(m.usPerOp)) wall.set(c.name, m.usPerOp);
  }
  if (wall.size !== cases.length) return; // filtered: no side-by-side figures
  bench.note('process CPU time per op (user+sys), cases interleaved, median of 5 rounds:');
  const cpu = cpuTimes(cases, 5);
  for (const c of cases) {
    const us = cpu.get(c.name)!;
    bench.note(
      `  ${c.name.padEnd(40)} ${us.toFixed(0).padStart(7)} µs CPU  ${(1e6 / us).toFixed(0).padStart(6)} /s per core`,
    );
  }
  const r = (a: string, b: string): string => (cpu.get(a)! / cpu.get(b)!).toFixed(2);
  bench.note(`full / resumed: ${r('node.full_x25519_ecdsa_p256', 'node.resumed_psk_dhe_x25519')}x`);
  bench.note(
    `full / its public-key floor: ${r('node.full_x25519_ecdsa_p256', 'node.floor_2x_x25519_1_sign_3_verify')}x; resumed / its floor: ${r('node.resumed_psk_dhe_x25519', 'node.floor_2x_x25519')}x`,
  );
  bench.note(
    `noble / node full handshake: ${r('noble.full_x25519_ecdsa_p256', 'node.full_x25519_ecdsa_p256')}x`,
  );
}

const zeroRttTicket: SessionTicket = (() => {
  const t = handshake({ provider: nodeProvider, earlyData: true });
  if (t === null) throw new Error('bench: no ticket');
  return t;
})();
