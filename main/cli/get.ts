/**
 * `quicscope get URL...`: fetches every URL over HTTP/3 (one connection per origin, all requests
 * on it at once), writes the bodies to --out or discards them, prints a summary per connection,
 * and exits 0 only when every response arrived whole with a 2xx status.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Config } from '../../core/connection/config.ts';
import { QUIC_VERSION_1, isSupportedVersion } from '../../core/wire/version.ts';
import type { CongestionControlName } from '../../core/connection/config.ts';
import type { NamedGroup } from '../../core/crypto/provider.ts';
import { fetchAll, parseTarget } from '../h3/fetch.ts';
import type { BodySink, FetchAllOptions, ResumeStore } from '../h3/fetch.ts';
import { SessionFile } from './session-file.ts';
import { applyTransportOptions, parseVersion, parseVersionList } from './transport.ts';
import { connectionSummary, formatBytes, ProgressBar } from './output.ts';
import { UsageError, flag, int, str } from './options.ts';
import type { ParsedCommand } from './options.ts';
import type { Io } from './io.ts';

const SUITES: Readonly<Record<string, string>> = {
  aes128gcm: 'TLS_AES_128_GCM_SHA256',
  aes256gcm: 'TLS_AES_256_GCM_SHA384',
  chacha20: 'TLS_CHACHA20_POLY1305_SHA256',
};
const GROUPS: Readonly<Record<string, NamedGroup>> = { x25519: 'x25519', p256: 'secp256r1' };

/** The client Config the options ask for. */
export function clientConfig(p: ParsedCommand): Config {
  const first = parseVersion(str(p, 'quic-version') ?? '1', 'quic-version', 'get');
  const listed = str(p, 'preferred-versions');
  const preferred = listed === undefined ? null : parseVersionList(listed, 'preferred-versions', 'get');
  // An unknown first version is only the Version field of the first flight (RFC 9368 §1.2).
  const config = new Config(isSupportedVersion(first) ? first : (preferred?.[0] ?? QUIC_VERSION_1));
  if (preferred !== null) config.setPreferredVersions(preferred);
  if (!isSupportedVersion(first)) config.setOriginalVersion(first);
  config.setApplicationProtos(['h3']);
  if (flag(p, 'insecure')) config.verifyPeer(false);
  const ca = str(p, 'ca');
  if (ca !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(ca, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --ca ${ca}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    try {
      config.setCaCertificates(pem);
    } catch (e) {
      throw new UsageError(`--ca ${ca}: ${(e as Error).message}`);
    }
  }
  const cipher = str(p, 'cipher');
  if (cipher !== undefined) config.setCipherSuites([SUITES[cipher]]);
  const group = str(p, 'group');
  if (group !== undefined) config.setGroups([GROUPS[group]]);
  config.setCongestionControl((str(p, 'cc') ?? 'cubic') as CongestionControlName);
  if (flag(p, 'early-data')) config.enableEarlyData();
  if (flag(p, 'no-preferred-address')) config.setUsePreferredAddress(false);
  applyTransportOptions(config, p, 'get');
  return config;
}

/**
 * The session file as fetchAll's ResumeStore. A token is offered only to a connection of the
 * QUIC version it came from (RFC 9369 §5); the ticket's version is checked by the connection.
 */
function resumeStore(file: SessionFile, version: number): ResumeStore {
  return {
    lookup(origin) {
      const s = file.get(origin);
      return { ticket: s.ticket, token: s.tokenVersion === version ? s.token : null };
    },
    store(origin, negotiated, ticket, token) {
      file.update(origin, negotiated, ticket, token);
    },
  };
}

/** A file name for a URL's body: its last path component, or index.html. */
export function outputName(url: URL): string {
  const name = basename(decodeURIComponent(url.pathname));
  return name === '' || name === '.' || name === '..' || name === '/' ? 'index.html' : name;
}

/** A sink that writes a body to a file as it arrives (synchronously: no copy, no queue). */
function fileSink(path: string): BodySink {
  const fd = openSync(path, 'w');
  let open = true;
  return {
    write(chunk) {
      for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
    },
    end() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Runs `get`; resolves with the exit status. */
export async function runGet(p: ParsedCommand, io: Io): Promise<number> {
  for (const u of p.positionals) {
    try {
      parseTarget(u);
    } catch (e) {
      throw new UsageError((e as Error).message, 'get');
    }
  }
  const config = clientConfig(p);
  const verbose = flag(p, 'verbose');
  const out = str(p, 'out');
  if (out !== undefined) mkdirSync(out, { recursive: true });
  const options: FetchAllOptions = {
    config,
    handshakeTimeout: int(p, 'handshake-timeout', 'get') ?? 10_000,
    traces: {
      qlogDir: str(p, 'qlog-dir') ?? null,
      keylogFile: str(p, 'keylog') ?? null,
      pcapFile: str(p, 'pcap') ?? null,
    },
  };
  const keyUpdateAfter = int(p, 'key-update-after', 'get');
  if (keyUpdateAfter !== undefined) options.keyUpdateAfter = Math.max(1, keyUpdateAfter);
  const migrateAfter = int(p, 'migrate-after', 'get');
  if (migrateAfter !== undefined) options.migrateAfter = migrateAfter;
  const sessionPath = str(p, 'session-file');
  const sessions = sessionPath === undefined ? null : SessionFile.load(sessionPath);
  if (sessions?.problem != null) io.err(`quicscope: ${sessions.problem}\n`);
  if (sessions !== null) options.resume = resumeStore(sessions, config.version);
  if (flag(p, 'early-data')) {
    if (sessions === null)
      throw new UsageError('--early-data needs --session-file (0-RTT resumes a session)', 'get');
    options.earlyData = true;
  }
  // Only successful bodies are saved (an error page is not the file asked for).
  if (out !== undefined)
    options.sink = (url, _i, res) =>
      res.status !== null && res.status >= 200 && res.status < 300
        ? fileSink(join(out, outputName(url)))
        : null;
  const bar = io.stdoutIsTty ? new ProgressBar(io.out, io.columns) : null;
  if (bar !== null) {
    options.onProgress = (progress) => bar.update(progress);
    options.progressInterval = 100;
  }
  const result = await fetchAll(p.positionals, options);
  bar?.clear();
  if (sessions !== null) {
    try {
      sessions.save();
    } catch (e) {
      io.err(`quicscope: cannot write ${sessions.path}: ${(e as NodeJS.ErrnoException).code ?? e}\n`);
    }
  }

  const reported = new Set<number>();
  for (const r of result.responses) {
    const res = r.response;
    if (res === null && r.error !== null) {
      // The connection never came up: one line for it, not one per URL.
      if (!reported.has(r.connection)) {
        reported.add(r.connection);
        const origin = result.connections[r.connection]?.origin ?? r.url;
        io.err(`quicscope: ${origin}: ${r.error.message}\n`);
      }
    } else if (r.error !== null) io.err(`quicscope: ${r.url}: ${r.error.message}\n`);
    else if (verbose && res !== null)
      io.out(`${res.status} ${r.url}  ${formatBytes(res.bodyLength)}  stream ${res.streamId}\n`);
  }
  for (const c of result.connections) {
    if (c.summary === null) continue; // its error was printed with each URL
    for (const line of connectionSummary(c, verbose)) io.out(line + '\n');
  }
  return result.ok ? 0 : 1;
}
