/** Display formatting for the window: sizes, rates, times, TLS names. Pure functions. */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${BYTE_UNITS[u]}`;
}

/** Bits per second → "12.3 Mbit/s". */
export function formatBits(bps: number | null | undefined): string {
  if (bps == null || !Number.isFinite(bps)) return '—';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let v = bps;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 && u > 0 ? 2 : v < 100 && u > 0 ? 1 : 0)} ${units[u]}`;
}

/** Milliseconds with a precision that suits the magnitude: "0.42 ms", "12.3 ms", "4.20 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.abs(ms) >= 100) return `${ms.toFixed(0)} ms`;
  if (Math.abs(ms) >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** A time offset for timelines: "+12.345 ms" style, fixed width. */
export function formatOffset(ms: number): string {
  return `+${ms.toFixed(3)}`;
}

/** Compact counts: 12345 → "12,345". */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  // Faster than toLocaleString (called for every tick label and counter on every update).
  const neg = n < 0;
  const [int, frac] = String(Math.abs(n)).split('.');
  let out = '';
  for (let i = int.length; i > 0; i -= 3)
    out = int.slice(Math.max(0, i - 3), i) + (out === '' ? '' : `,${out}`);
  return (neg ? '-' : '') + out + (frac !== undefined ? `.${frac}` : '');
}

/** Epoch ms → "2026-11-26 10:48:03 UTC". */
export function formatDate(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** "client_hello" → "ClientHello"; "hello_retry_request" → "HelloRetryRequest". */
export function tlsMessageName(type: string): string {
  return type
    .split('_')
    .map((w) => (w.length === 0 ? w : w[0].toUpperCase() + w.slice(1)))
    .join('');
}

/** A qlog QuicVersion hex ("00000001") → "QUIC v1 (0x00000001)". */
export function versionLabel(hexVersion: string | null | undefined): string {
  if (hexVersion == null) return '—';
  const names: Record<string, string> = {
    '00000001': 'QUIC v1',
    '6b3343cf': 'QUIC v2',
    '709a50c4': 'QUIC v2 draft',
  };
  const h = hexVersion.toLowerCase().padStart(8, '0');
  return names[h] != null ? `${names[h]} (0x${h})` : `0x${h}`;
}

/** Bytes as a hex dump line: "de ad be ef". */
export function spacedHex(hex: string, limit = 4096): string {
  const h = hex.length > limit * 2 ? hex.slice(0, limit * 2) : hex;
  return h.replace(/(..)(?=.)/g, '$1 ');
}

/** Whether text is a valid hex payload (whitespace and ':' ignored, even digit count). */
export function isHexPayload(text: string): boolean {
  const clean = text.replace(/[\s:]/g, '');
  return clean.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(clean);
}

/** Parses "name: value" lines into HTTP field pairs (lowercase names); blank lines are skipped. */
export function parseHeaderLines(text: string): { headers: [string, string][]; error: string | null } {
  const headers: [string, string][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const colon = line.indexOf(':', 1);
    if (colon <= 0) return { headers, error: `line ${i + 1}: expected "name: value"` };
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) return { headers, error: `line ${i + 1}: bad field name` };
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { headers, error: null };
}
