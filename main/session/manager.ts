/**
 * The SessionManager: the app's concurrent client sessions, the built-in local server, recent
 * targets and exports, behind the contract's requests. Both transports (main/electron, main/web)
 * call the same manager through main/ipc/dispatch.ts and fan its batches out to their windows.
 */
import type {
  ExportKind,
  LocalServerInfo,
  OpenSessionOptions,
  Preset,
  RecentTarget,
  SessionBatch,
  SessionId,
  SessionInfo,
  SessionSummary,
} from '../ipc/contract.ts';
import { buildExport } from './exports.ts';
import type { ExportFile } from './exports.ts';
import { RequestFailure } from './failure.ts';
import { LocalServer } from './local-server.ts';
import { LOCAL_TARGET, PRESETS, RecentTargets } from './recents.ts';
import { Session } from './session.ts';
import type { SessionEnvironment } from './session.ts';
import { parseTarget } from './target.ts';

/** Options of a SessionManager. */
export interface SessionManagerOptions {
  /** Where recent targets are kept (null: memory only). */
  recentsFile?: string | null;
  /** Host name resolution for the sessions (tests). */
  lookup?: SessionEnvironment['lookup'];
}

/** Most sessions kept at once (closed ones count until removed). */
export const MAX_SESSIONS = 64;

/** See the module comment. */
export class SessionManager {
  private readonly sessions = new Map<SessionId, Session>();
  private readonly listeners = new Set<(batch: SessionBatch) => void>();
  private nextId = 1;
  private localServer: LocalServer | null = null;
  private localStarting: Promise<LocalServer> | null = null;
  readonly recents: RecentTargets;

  constructor(private readonly options: SessionManagerOptions = {}) {
    this.recents = new RecentTargets(options.recentsFile ?? null);
  }

  /** Subscribes to every session's batches; returns the unsubscribe function. */
  onBatch(listener: (batch: SessionBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(batch: SessionBatch): void {
    if (!this.sessions.has(batch.sessionId)) return; // removed: its closing is not news
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch {
        // A transport's failure must not stop the others.
      }
    }
  }

  /**
   * Opens a session and starts its handshake; resolves with its info at once (progress and the
   * outcome arrive in batches). Target "local" starts and uses the local server.
   */
  async openSession(options: OpenSessionOptions): Promise<SessionInfo> {
    if (this.sessions.size >= MAX_SESSIONS) {
      for (const [id, s] of this.sessions)
        if (s.isEnded && this.sessions.size >= MAX_SESSIONS) this.sessions.delete(id);
      if (this.sessions.size >= MAX_SESSIONS)
        throw new RequestFailure('invalid_state', `at most ${MAX_SESSIONS} sessions at once: close some`);
    }
    let target = parseTargetOrLocal(options.target);
    let local: LocalServer | null = null;
    if (target === null) {
      local = await this.ensureLocalServer();
      target = { host: local.info.host, port: local.info.port, path: '/' };
    } else if (
      this.localServer !== null &&
      target.port === this.localServer.info.port &&
      (target.host === this.localServer.info.host || target.host === 'localhost')
    )
      local = this.localServer;
    const id = `s${this.nextId++}`;
    const session = new Session(id, options, target, local !== null, {
      onBatch: (b) => this.emit(b),
      extraCaPem: local?.certPem ?? null,
      lookup: this.options.lookup,
    });
    this.sessions.set(id, session);
    this.recents.add(options);
    void session.start();
    return session.info;
  }

  /** The session `id`, or a 'not_found' RequestFailure. */
  get(id: SessionId): Session {
    const s = this.sessions.get(id);
    if (s === undefined) throw new RequestFailure('not_found', `no session ${id}`);
    return s;
  }

  /** Closes session `id` (CONNECTION_CLOSE with an application `code`). */
  closeSession(id: SessionId, code?: number, reason?: string): void {
    this.get(id).close(code, reason ?? '');
  }

  /** Forgets session `id`; one still open is closed (CONNECTION_CLOSE) and finishes unseen. */
  removeSession(id: SessionId): void {
    const s = this.get(id);
    this.sessions.delete(id);
    if (!s.isEnded) {
      s.close();
      // Drop it for good once its closing period is over (RFC 9000 §10.2), or at once if stuck.
      const timer = setTimeout(() => s.destroy(), 3000);
      timer.unref();
    }
  }

  /** Every session, oldest first. */
  listSessions(): SessionSummary[] {
    return [...this.sessions.values()].map((s) => s.summary());
  }

  /** Builds an export of session `id`. */
  exportSession(id: SessionId, kind: ExportKind): ExportFile {
    return buildExport(this.get(id), kind);
  }

  /** Starts the local server (once) and says where it is. */
  async startLocalServer(): Promise<LocalServerInfo> {
    return (await this.ensureLocalServer()).info;
  }

  private ensureLocalServer(): Promise<LocalServer> {
    if (this.localServer !== null) return Promise.resolve(this.localServer);
    this.localStarting ??= LocalServer.start().then(
      (server) => {
        this.localServer = server;
        this.localStarting = null;
        return server;
      },
      (e: unknown) => {
        this.localStarting = null;
        throw new RequestFailure('io', `the local server did not start: ${(e as Error).message}`);
      },
    );
    return this.localStarting;
  }

  /** The ready-made targets. */
  listPresets(): Preset[] {
    return PRESETS.map((p) => ({ ...p, options: { ...p.options } }));
  }

  /** Recent targets, newest first. */
  recentTargets(): RecentTarget[] {
    return this.recents.all();
  }

  /** Closes every session and the local server. */
  async shutdown(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const s of this.sessions.values()) {
      if (s.isEnded) continue;
      s.close();
      closing.push(s.endpoint?.close({ timeout: 300 }) ?? Promise.resolve());
    }
    await Promise.allSettled(closing);
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
    this.listeners.clear();
    if (this.localStarting !== null) await this.localStarting.catch(() => undefined);
    await this.localServer?.close();
    this.localServer = null;
  }
}

/** The parsed target, or null for the local server. */
function parseTargetOrLocal(text: string): ReturnType<typeof parseTarget> | null {
  if (text.trim().toLowerCase() === LOCAL_TARGET) return null;
  return parseTarget(text);
}
