/**
 * The contract's server side, shared by both transports: checks a request's name and arguments
 * (the window is not trusted to send well-formed ones: a renderer bug or a page in the browser
 * must get a 'bad_request', never crash main/), calls the SessionManager, and wraps the answer
 * in a RequestOutcome. Exports go through a transport hook (Electron: save dialog; web: bytes).
 */
import { toRequestError, RequestFailure } from '../session/failure.ts';
import type { ExportFile } from '../session/exports.ts';
import type { SessionManager } from '../session/manager.ts';
import { EXPORT_KINDS, isRequestName } from './contract.ts';
import type {
  AppInfo,
  ExportKind,
  ExportResult,
  H3RequestInit,
  HeaderField,
  OpenSessionOptions,
  Payload,
  RequestMap,
  RequestName,
  RequestOutcome,
} from './contract.ts';
import { CONTRACT_VERSION } from './contract.ts';

/** What a transport adds to the dispatcher. */
export interface TransportHooks {
  transport: AppInfo['transport'];
  appVersion: string;
  /** Delivers an export: web mode returns the bytes, Electron saves through a dialog. */
  deliverExport(file: ExportFile): Promise<ExportResult>;
}

/** The web transport's export delivery: the bytes as base64, for a download. */
export function exportAsBytes(file: ExportFile): Promise<ExportResult> {
  return Promise.resolve({
    fileName: file.fileName,
    mimeType: file.mimeType,
    size: file.data.length,
    bytes: Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).toString('base64'),
    savedPath: null,
    canceled: false,
  });
}

type Handlers = {
  [K in RequestName]: (
    args: Record<string, unknown>,
  ) => Promise<RequestMap[K]['result']> | RequestMap[K]['result'];
};

/** Runs requests against `manager`: `dispatch(method, args)` never throws. */
export class Dispatcher {
  private readonly handlers: Handlers;

  constructor(
    readonly manager: SessionManager,
    private readonly hooks: TransportHooks,
  ) {
    const m = manager;
    this.handlers = {
      appInfo: () => ({
        contractVersion: CONTRACT_VERSION,
        appVersion: hooks.appVersion,
        transport: hooks.transport,
        features: { datagrams: true, keyUpdate: true, migration: true },
      }),
      openSession: (a) => m.openSession(openOptions(a.options)),
      closeSession: (a) => {
        m.closeSession(sessionId(a), optCode(a.code), optString(a.reason, 'reason', 1024));
        return null;
      },
      removeSession: (a) => {
        m.removeSession(sessionId(a));
        return null;
      },
      listSessions: () => m.listSessions(),
      openStream: (a) => ({
        streamId: m
          .get(sessionId(a))
          .io.openStream(oneOf(a.direction, 'direction', ['bidi', 'uni'] as const)),
      }),
      sendStream: (a) => ({
        bytes: m
          .get(sessionId(a))
          .io.sendStream(streamId(a.streamId), payload(a.data), optBool(a.fin, 'fin') ?? false),
      }),
      resetStream: (a) => {
        m.get(sessionId(a)).io.resetStream(
          streamId(a.streamId),
          code(a.code),
          oneOf(a.direction, 'direction', ['write', 'read', 'both'] as const),
        );
        return null;
      },
      h3Request: (a) => m.get(sessionId(a)).io.h3Request(requestInit(a.request)),
      sendDatagram: (a) => ({ bytes: m.get(sessionId(a)).io.sendDatagram(payload(a.data)) }),
      keyUpdate: (a) => ({ initiated: m.get(sessionId(a)).io.keyUpdate() }),
      migrate: async (a) => ({ localPort: await m.get(sessionId(a)).io.migrate() }),
      exportSession: (a) => {
        const kind = oneOf(a.kind, 'kind', EXPORT_KINDS) as ExportKind;
        return this.hooks.deliverExport(m.exportSession(sessionId(a), kind));
      },
      startLocalServer: () => m.startLocalServer(),
      listPresets: () => m.listPresets(),
      recentTargets: () => m.recentTargets(),
      sessionSnapshot: (a) => m.get(sessionId(a)).snapshot(),
    };
  }

  /** Runs one request; every failure becomes `{ ok: false, error }`. */
  async dispatch(method: unknown, args: unknown): Promise<RequestOutcome> {
    try {
      if (!isRequestName(method))
        throw new RequestFailure('bad_request', `unknown request ${JSON.stringify(method)}`);
      const a = args === undefined || args === null ? {} : args;
      if (typeof a !== 'object' || Array.isArray(a))
        throw new RequestFailure('bad_request', 'arguments must be an object');
      const value = await this.handlers[method](a as Record<string, unknown>);
      return { ok: true, value } as RequestOutcome;
    } catch (e) {
      return { ok: false, error: toRequestError(e) };
    }
  }
}

// ---- argument checks ----

function bad(message: string): never {
  throw new RequestFailure('bad_request', message);
}

function sessionId(a: Record<string, unknown>): string {
  const id = a.sessionId;
  if (typeof id !== 'string' || id.length === 0 || id.length > 64)
    bad('sessionId must be a session id string');
  return id;
}

function streamId(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    bad('streamId must be a stream ID (integer ≥ 0)');
  return v;
}

function code(v: unknown): number {
  // RFC 9000 §16: error codes are varints, up to 2^62 - 1 (a double: exact up to 2^53 - 1).
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad('code must be an integer ≥ 0');
  return v;
}

function optCode(v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : code(v);
}

function optString(v: unknown, name: string, max: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) bad(`${name} must be a string of at most ${max} characters`);
  return v;
}

function optBool(v: unknown, name: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') bad(`${name} must be true or false`);
  return v;
}

function optInt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    bad(`${name} must be an integer in ${min}..${max}`);
  return v;
}

function oneOf<T extends string>(v: unknown, name: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    bad(`${name} must be one of ${values.join(', ')}`);
  return v as T;
}

/** Most bytes of a payload the window may send in one request (16 MiB of text or hex digits). */
const MAX_PAYLOAD_CHARS = 32 * 1024 * 1024;

function payload(v: unknown): Payload {
  if (typeof v !== 'object' || v === null) bad('data must be { encoding: "text" | "hex", data: string }');
  const p = v as Record<string, unknown>;
  const encoding = oneOf(p.encoding, 'data.encoding', ['text', 'hex'] as const);
  if (typeof p.data !== 'string' || p.data.length > MAX_PAYLOAD_CHARS)
    bad('data.data must be a string (≤ 32 Mi characters)');
  return { encoding, data: p.data };
}

function openOptions(v: unknown): OpenSessionOptions {
  if (typeof v !== 'object' || v === null) bad('options must be an object');
  const o = v as Record<string, unknown>;
  if (typeof o.target !== 'string' || o.target.length > 2048) bad('options.target must be a string');
  const out: OpenSessionOptions = { target: o.target };
  const sni = optString(o.sni, 'options.sni', 253);
  if (sni !== undefined) out.sni = sni;
  const alpn = optString(o.alpn, 'options.alpn', 255);
  if (alpn !== undefined) {
    // RFC 7301 §3.1: a protocol name is 1..255 bytes.
    if (alpn.length === 0 || new TextEncoder().encode(alpn).length > 255)
      bad('options.alpn must be 1..255 bytes');
    out.alpn = alpn;
  }
  if (o.version !== undefined && o.version !== null)
    out.version = oneOf(o.version, 'options.version', ['v1', 'v2'] as const);
  const insecure = optBool(o.insecure, 'options.insecure');
  if (insecure !== undefined) out.insecure = insecure;
  if (o.congestionControl !== undefined && o.congestionControl !== null)
    out.congestionControl = oneOf(o.congestionControl, 'options.congestionControl', [
      'cubic',
      'newreno',
    ] as const);
  const caPem = optString(o.caPem, 'options.caPem', 1024 * 1024);
  if (caPem !== undefined && caPem.trim() !== '') out.caPem = caPem;
  const caFile = optString(o.caFile, 'options.caFile', 4096);
  if (caFile !== undefined && caFile.trim() !== '') out.caFile = caFile;
  const datagrams = optBool(o.datagrams, 'options.datagrams');
  if (datagrams !== undefined) out.datagrams = datagrams;
  const hs = optInt(o.handshakeTimeout, 'options.handshakeTimeout', 100, 600_000);
  if (hs !== undefined) out.handshakeTimeout = hs;
  const idle = optInt(o.idleTimeout, 'options.idleTimeout', 0, 3_600_000);
  if (idle !== undefined) out.idleTimeout = idle;
  return out;
}

/** Whether `s` has a C0 control character or DEL. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 §5.6.2

function requestInit(v: unknown): H3RequestInit {
  if (typeof v !== 'object' || v === null) bad('request must be an object');
  const r = v as Record<string, unknown>;
  if (typeof r.method !== 'string' || !TOKEN.test(r.method))
    bad('request.method must be an HTTP method token');
  if (
    typeof r.path !== 'string' ||
    r.path.length === 0 ||
    r.path.length > 8192 ||
    !(r.path.startsWith('/') || r.path === '*') ||
    /\s/.test(r.path) ||
    hasControl(r.path)
  )
    // RFC 9114 §4.3.1: an origin-form path (or "*"); RFC 9110 §4.1: no spaces.
    bad('request.path must start with / and have no spaces or control characters');
  const out: H3RequestInit = { method: r.method, path: r.path };
  if (r.headers !== undefined && r.headers !== null) {
    if (!Array.isArray(r.headers) || r.headers.length > 256)
      bad('request.headers must be a list of [name, value]');
    const headers: HeaderField[] = [];
    for (const h of r.headers as unknown[]) {
      if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string')
        bad('each header must be [name, value] strings');
      const [name, value] = h as [string, string];
      // RFC 9114 §4.2: field names are lowercase tokens; pseudo-headers are main/'s to set.
      if (!TOKEN.test(name)) bad(`not a header name: ${JSON.stringify(name)}`);
      // RFC 9114 §4.2: CR, LF and NUL make a message malformed.
      if (/[\r\n]/.test(value) || value.includes('\0'))
        bad(`header ${name}: CR, LF and NUL are not allowed in values`);
      headers.push([name.toLowerCase(), value]);
    }
    out.headers = headers;
  }
  if (r.body !== undefined && r.body !== null) out.body = payload(r.body);
  return out;
}
