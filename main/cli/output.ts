/**
 * What the CLI prints: sizes, rates and durations in human units, the progress bar of `get`
 * (only on a TTY), and the per-connection summary.
 */
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../core/wire/version.ts';
import type { FetchProgress, FetchedConnection } from '../h3/fetch.ts';

/** 1234567 → "1.23 MB" (decimal units, like network rates). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

/** Bytes over milliseconds → "123 Mbit/s". */
export function formatRate(bytes: number, ms: number): string {
  if (!(ms > 0)) return '-';
  const bits = (bytes * 8) / (ms / 1000);
  if (bits >= 1e9) return `${(bits / 1e9).toFixed(2)} Gbit/s`;
  if (bits >= 1e6) return `${(bits / 1e6).toFixed(bits >= 1e8 ? 0 : 1)} Mbit/s`;
  if (bits >= 1e3) return `${(bits / 1e3).toFixed(1)} kbit/s`;
  return `${bits.toFixed(0)} bit/s`;
}

/** Milliseconds → "850 µs", "12.3 ms", "4.56 s". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A QUIC version by name. */
export function versionName(v: number): string {
  if (v === QUIC_VERSION_1) return 'QUIC v1';
  if (v === QUIC_VERSION_2) return 'QUIC v2';
  return `QUIC 0x${v.toString(16).padStart(8, '0')}`;
}

/** The summary of one connection: one line, or several with `verbose`. */
export function connectionSummary(c: FetchedConnection, verbose: boolean): string[] {
  const s = c.summary;
  if (s === null) return [`${c.origin}: ${c.error?.message ?? 'no connection'}`];
  const st = s.stats;
  const tls = s.tls;
  const transfer =
    c.firstRequestAt !== null && c.lastResponseAt !== null ? c.lastResponseAt - c.firstRequestAt : 0;
  const hs = st.handshakeDuration === null ? '-' : formatMs(st.handshakeDuration);
  const line =
    `${c.origin}  ${versionName(s.version)}  ALPN ${tls.alpn ?? '-'}  ${tls.cipherSuite ?? '-'}  ` +
    `handshake ${hs}  ${formatBytes(c.bodyBytes)} in ${formatMs(transfer)} ` +
    `(${formatRate(c.bodyBytes, transfer)})  RTT ${formatMs(st.smoothedRtt)}  ` +
    `lost ${st.packetsLost}/${st.packetsSent} packets`;
  const lines = [line];
  if (verbose) {
    lines.push(
      `  remote ${s.remote}  group ${tls.group ?? '-'}  resumed ${tls.resumed ? 'yes' : 'no'}  ` +
        `early data ${tls.earlyData}  retry ${st.retrySeen ? 'yes' : 'no'}  ` +
        `version negotiation ${
          st.versionNegotiationSeen
            ? 'yes (Version Negotiation packet)'
            : st.compatibleVersionSwitch
              ? `compatible, from ${versionName(st.originalVersion)}`
              : 'no'
        }`,
      `  packets sent ${st.packetsSent} received ${st.packetsReceived} lost ${st.packetsLost} ` +
        `(${formatBytes(st.bytesLost)}) dropped ${st.packetsDropped}  PTOs ${st.ptoCount}  ` +
        `retransmitted ${formatBytes(st.streamBytesRetransmitted)}`,
      `  RTT min ${formatMs(st.minRtt)} smoothed ${formatMs(st.smoothedRtt)} var ${formatMs(st.rttVariance)}  ` +
        `cwnd ${formatBytes(st.cwnd)}  congestion control ${st.congestionControl}  ` +
        `key updates ${st.keyUpdates}`,
      `  path MTU ${st.pmtu} (${st.pmtudState})  migrations ${st.migrationsValidated} validated / ` +
        `${st.migrationsInitiated} initiated  path changes ${st.pathChanges}  local port ${st.localAddress.port}  ` +
        `peer ${st.peerAddress.address.includes(':') ? `[${st.peerAddress.address}]` : st.peerAddress.address}:${st.peerAddress.port}`,
    );
    for (const note of c.notes) lines.push(`  ${note}`);
    if (c.error !== null) lines.push(`  ended: ${c.error.message}`);
  }
  return lines;
}

/** A one-line progress bar that redraws itself in place (for a TTY). */
export class ProgressBar {
  private shown = false;
  private readonly started = performance.now();

  constructor(
    private readonly write: (s: string) => void,
    private readonly columns: number,
  ) {}

  /** Redraws the bar. */
  update(p: FetchProgress): void {
    const elapsed = performance.now() - this.started;
    const fraction = p.expected !== null && p.expected > 0 ? Math.min(1, p.received / p.expected) : null;
    const size =
      p.expected !== null ? `${formatBytes(p.received)}/${formatBytes(p.expected)}` : formatBytes(p.received);
    const tail = ` ${fraction === null ? '  ?%' : `${Math.floor(fraction * 100)}%`.padStart(4)} ${size}  ${p.done}/${p.total} done  ${formatRate(p.received, elapsed)}`;
    const width = Math.max(10, Math.min(40, this.columns - tail.length - 3));
    const filled = fraction === null ? 0 : Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}]`;
    this.write(`\r${bar}${tail}\x1b[K`);
    this.shown = true;
  }

  /** Removes the bar from the line. */
  clear(): void {
    if (this.shown) this.write('\r\x1b[K');
    this.shown = false;
  }
}
