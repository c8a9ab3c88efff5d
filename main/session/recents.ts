/**
 * The connect form's presets, and the recent targets: newest first, at most MAX_RECENTS, kept in a
 * JSON file when given one (Electron: the user-data folder) or in memory (web mode, tests).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OpenSessionOptions, Preset, RecentTarget } from '../ipc/contract.ts';

/** Most recent targets kept. */
export const MAX_RECENTS = 20;

/** Ready-made targets. Only loopback is reachable from CI machines; the public ones are for users. */
export const PRESETS: readonly Preset[] = [
  {
    name: 'Local server',
    description:
      'quicscope’s own HTTP/3 and echo server on 127.0.0.1 (started on demand, its certificate trusted)',
    options: { target: 'local' },
  },
  {
    name: 'quic.tech:4433',
    description: 'Cloudflare’s quiche test server (HTTP/3)',
    options: { target: 'https://quic.tech:4433/', alpn: 'h3' },
  },
  {
    name: 'quic.tech:8443',
    description: 'quiche test server, second port',
    options: { target: 'https://quic.tech:8443/', alpn: 'h3' },
  },
  {
    name: 'quic.tech:8444 (Retry)',
    description: 'quiche test server that answers with a Retry (RFC 9000 §8.1.2)',
    options: { target: 'https://quic.tech:8444/', alpn: 'h3' },
  },
  {
    name: 'cloudflare-quic.com',
    description: 'Cloudflare’s public HTTP/3 site',
    options: { target: 'https://cloudflare-quic.com/', alpn: 'h3' },
  },
];

/** The target that starts and uses the local server. */
export const LOCAL_TARGET = 'local';

/** Recent targets, optionally persisted. */
export class RecentTargets {
  private list: RecentTarget[] = [];

  constructor(private readonly file: string | null = null) {
    if (file === null) return;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(data))
        this.list = data
          .filter(
            (r): r is RecentTarget =>
              typeof r === 'object' &&
              r !== null &&
              typeof (r as RecentTarget).lastUsed === 'number' &&
              typeof (r as RecentTarget).options?.target === 'string',
          )
          .slice(0, MAX_RECENTS);
    } catch {
      // No file yet, or an unreadable one: start empty.
    }
  }

  /** The recent targets, newest first (copies). */
  all(): RecentTarget[] {
    return this.list.map((r) => ({ options: { ...r.options }, lastUsed: r.lastUsed }));
  }

  /** Records a use of `options` (the same target + ALPN moves to the front). */
  add(options: OpenSessionOptions, now = Date.now()): void {
    const kept: OpenSessionOptions = { ...options };
    delete kept.caPem; // certificates are not settings to replay
    const key = (o: OpenSessionOptions): string => `${o.target}\u0000${o.alpn ?? 'h3'}`;
    this.list = [
      { options: kept, lastUsed: now },
      ...this.list.filter((r) => key(r.options) !== key(kept)),
    ].slice(0, MAX_RECENTS);
    this.save();
  }

  private save(): void {
    if (this.file === null) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.list, null, 2));
      renameSync(tmp, this.file);
    } catch {
      // Best effort: recents are a convenience.
    }
  }
}
