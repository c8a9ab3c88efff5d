/**
 * `--session-file`: what `quicscope get` remembers about each server between runs — the latest
 * TLS session ticket (resumption and 0-RTT, with the server's transport parameters, RFC 9000
 * §7.4.1) and the latest NEW_TOKEN token (RFC 9000 §8.1.3), each with the QUIC version of the
 * connection that got it (RFC 9369 §5: neither may start a connection of another version).
 *
 * The file is JSON keyed by host:port; the ticket is `encodeSessionTicket`'s bytes in base64.
 * It holds a PSK, so it is written with mode 0600, through a temporary file and a rename.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { decodeSessionTicket, encodeSessionTicket } from '../../core/tls/tickets.ts';
import type { SessionTicket } from '../../core/tls/session.ts';

const FORMAT = 'quicscope-sessions/1';

/** What is remembered about one server. */
export interface StoredSession {
  ticket: SessionTicket | null;
  /** The QUIC version the ticket came from. */
  ticketVersion: number | null;
  token: Uint8Array | null;
  /** The QUIC version the token came from. */
  tokenVersion: number | null;
}

interface FileEntry {
  ticket?: string;
  ticketVersion?: number;
  token?: string;
  tokenVersion?: number;
  saved?: string;
}

/** A session file: load, look up and update per server, save. */
export class SessionFile {
  private constructor(
    readonly path: string,
    private readonly entries: Map<string, FileEntry>,
    /** Why an existing file was not readable (it is then replaced), or null. */
    readonly problem: string | null,
  ) {}

  /** Reads `path`; a missing file is an empty one, an unreadable one is reported in `problem`. */
  static load(path: string): SessionFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return new SessionFile(path, new Map(), code === 'ENOENT' ? null : `cannot read ${path}: ${code ?? e}`);
    }
    try {
      const json = JSON.parse(text) as { format?: unknown; servers?: Record<string, FileEntry> };
      if (json.format !== FORMAT || typeof json.servers !== 'object' || json.servers === null)
        throw new Error('not a quicscope session file');
      return new SessionFile(path, new Map(Object.entries(json.servers)), null);
    } catch (e) {
      return new SessionFile(
        path,
        new Map(),
        `${path} is not a session file (${(e as Error).message}); starting afresh`,
      );
    }
  }

  /** What is kept for `origin` (host:port); a ticket or token that does not decode is left out. */
  get(origin: string): StoredSession {
    const e = this.entries.get(origin);
    const out: StoredSession = { ticket: null, ticketVersion: null, token: null, tokenVersion: null };
    if (e === undefined) return out;
    if (typeof e.ticket === 'string') {
      try {
        out.ticket = decodeSessionTicket(Buffer.from(e.ticket, 'base64'));
        out.ticketVersion = typeof e.ticketVersion === 'number' ? e.ticketVersion : null;
      } catch {
        // a damaged ticket: a full handshake, and the next save replaces it
      }
    }
    if (typeof e.token === 'string' && e.token.length > 0) {
      out.token = Buffer.from(e.token, 'base64');
      out.tokenVersion = typeof e.tokenVersion === 'number' ? e.tokenVersion : null;
    }
    return out;
  }

  /** Records a new ticket and/or token for `origin` (null keeps what was there). */
  update(
    origin: string,
    version: number,
    ticket: SessionTicket | null,
    token: Uint8Array | null,
    now: Date = new Date(),
  ): void {
    if (ticket === null && token === null) return;
    const e: FileEntry = { ...this.entries.get(origin) };
    if (ticket !== null) {
      e.ticket = Buffer.from(encodeSessionTicket(ticket)).toString('base64');
      e.ticketVersion = version;
    }
    if (token !== null) {
      e.token = Buffer.from(token).toString('base64');
      e.tokenVersion = version;
    }
    e.saved = now.toISOString();
    this.entries.set(origin, e);
  }

  /** Writes the file (mode 0600, replaced atomically). */
  save(): void {
    const json = JSON.stringify({ format: FORMAT, servers: Object.fromEntries(this.entries) }, null, 2);
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, json + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
