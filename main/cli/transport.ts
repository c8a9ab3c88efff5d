/**
 * What `get` and `serve` share: QUIC version arguments (1, 2, or any 32-bit value in hex) and the
 * transport flags both take (--max-udp-payload, --no-pmtud, --no-grease), applied to a Config.
 */
import type { Config } from '../../core/connection/config.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2, isSupportedVersion } from '../../core/wire/version.ts';
import { UsageError, flag, int } from './options.ts';
import type { ParsedCommand } from './options.ts';

/** "1", "2", "v1", "v2" or a 32-bit hex number ("0x6b3343cf") → the version; UsageError otherwise. */
export function parseVersion(text: string, option: string, command: string): number {
  const t = text.trim().toLowerCase();
  if (t === '1' || t === 'v1') return QUIC_VERSION_1;
  if (t === '2' || t === 'v2') return QUIC_VERSION_2;
  if (/^0x[0-9a-f]{1,8}$/.test(t)) {
    const v = Number.parseInt(t.slice(2), 16);
    if (v !== 0) return v; // 0 is Version Negotiation (RFC 9000 §17.2.1)
  }
  throw new UsageError(`--${option} takes 1, 2 or a hex version like 0x1a2a3a4a (got '${text}')`, command);
}

/** A comma-separated list of versions we speak ("2,1"): each v1 or v2, no repeats. */
export function parseVersionList(text: string, option: string, command: string): number[] {
  const versions = text.split(',').map((v) => parseVersion(v, option, command));
  for (const v of versions) {
    if (!isSupportedVersion(v))
      throw new UsageError(`--${option}: only 1 and 2 are spoken (got 0x${v.toString(16)})`, command);
  }
  if (new Set(versions).size !== versions.length)
    throw new UsageError(`--${option} repeats a version`, command);
  return versions;
}

/** Applies --max-udp-payload, --no-pmtud and --no-grease to `config`. */
export function applyTransportOptions(config: Config, p: ParsedCommand, command: string): void {
  const payload = int(p, 'max-udp-payload', command);
  if (payload !== undefined) {
    if (payload < 1200 || payload > 65527)
      throw new UsageError(`--max-udp-payload must be 1200..65527 (got ${payload})`, command);
    config.setMaxUdpPayloadSize(payload);
  }
  if (flag(p, 'no-pmtud')) config.enablePmtud(false);
  if (flag(p, 'no-grease')) config.enableGrease(false);
}
