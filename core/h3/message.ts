/**
 * HTTP message validity for HTTP/3 (RFC 9114 §4.1.2, §4.2, §4.3): field names and values, the
 * request and response pseudo-header fields, trailers, connection-specific fields and
 * Content-Length. Each check returns the reason a field section is malformed, or null when it is
 * valid; the connection turns a reason into an H3_MESSAGE_ERROR stream error for a peer's message
 * and into a RangeError for one of ours.
 */
import type { FieldLine } from './qpack/decoder.ts';

/** What a valid request header section says (RFC 9114 §4.3.1). */
export interface RequestInfo {
  method: string;
  /** The Content-Length value, or -1 when absent. */
  contentLength: number;
}

/** What a valid response header section says (RFC 9114 §4.3.2). */
export interface ResponseInfo {
  status: number;
  /** The Content-Length value, or -1 when absent. */
  contentLength: number;
}

// RFC 9110 §5.6.2 tchar, lowercase only (RFC 9114 §4.2: uppercase names are malformed).
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;

// RFC 9114 §4.2: connection-specific fields are malformed (TE is checked on its own).
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** Why `name` is not a valid lowercase field name (RFC 9114 §4.2, RFC 9110 §5.1), or null. */
export function invalidFieldName(name: string): string | null {
  if (name.length === 0) return 'empty field name';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return `uppercase field name ${JSON.stringify(name)}`;
    if (c >= 128 || TOKEN[c] === 0) return `invalid character in field name ${JSON.stringify(name)}`;
  }
  return null;
}

/** Why `value` is not a valid field value (RFC 9110 §5.5: no NUL, CR or LF), or null. */
export function invalidFieldValue(value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return 'NUL, CR or LF in a field value';
  }
  return null;
}

/** Checks a regular (non-pseudo) field: name, value, connection-specific fields (RFC 9114 §4.2). */
function invalidRegularField(name: string, value: string, inRequest: boolean): string | null {
  const bad = invalidFieldName(name) ?? invalidFieldValue(value);
  if (bad !== null) return bad;
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
  // §4.2: TE only in requests, and only "trailers".
  if (name === 'te' && (!inRequest || value !== 'trailers')) return `te: ${JSON.stringify(value)}`;
  return null;
}

/** Parses Content-Length values (RFC 9110 §8.6): all equal non-negative decimals; -2 when invalid. */
function contentLength(values: string[]): number {
  let n = -1;
  for (const v of values) {
    if (!/^[0-9]{1,15}$/.test(v)) return -2;
    const x = Number(v);
    if (n >= 0 && x !== n) return -2;
    n = x;
  }
  return n;
}

/**
 * Validates a request header section (RFC 9114 §4.1.2, §4.2, §4.3, §4.3.1, §4.4): pseudo-header
 * fields first, each of :method :scheme :path exactly once (CONNECT: :method and :authority
 * only), a non-empty :path, an authority for http(s), valid names and values, no
 * connection-specific fields. Returns what the request says, or the reason it is malformed.
 */
export function checkRequest(headers: readonly FieldLine[]): RequestInfo | string {
  let method: string | null = null;
  let scheme: string | null = null;
  let authority: string | null = null;
  let path: string | null = null;
  let host: string | null = null;
  let regular = false;
  const lengths: string[] = [];
  for (const [name, value] of headers) {
    if (name.startsWith(':')) {
      // §4.3: pseudo-header fields come before regular fields, once each, only the defined ones.
      if (regular) return `pseudo-header field ${name} after a regular field`;
      const bad = invalidFieldValue(value);
      if (bad !== null) return bad;
      switch (name) {
        case ':method':
          if (method !== null) return 'repeated :method';
          method = value;
          break;
        case ':scheme':
          if (scheme !== null) return 'repeated :scheme';
          scheme = value;
          break;
        case ':authority':
          if (authority !== null) return 'repeated :authority';
          authority = value;
          break;
        case ':path':
          if (path !== null) return 'repeated :path';
          path = value;
          break;
        default:
          return `pseudo-header field ${name} in a request`;
      }
      continue;
    }
    regular = true;
    const bad = invalidRegularField(name, value, true);
    if (bad !== null) return bad;
    if (name === 'host') {
      if (host !== null) return 'repeated host';
      host = value;
    } else if (name === 'content-length') lengths.push(value);
  }
  if (method === null) return 'missing :method';
  if (method.length === 0 || invalidFieldName(method.toLowerCase()) !== null) return 'invalid :method';
  if (method === 'CONNECT') {
    // §4.4: CONNECT carries :authority only.
    if (scheme !== null || path !== null) return 'CONNECT with :scheme or :path';
    if (authority === null || authority.length === 0) return 'CONNECT without :authority';
  } else {
    if (scheme === null) return 'missing :scheme';
    if (path === null) return 'missing :path';
    if (path.length === 0) return 'empty :path';
    if (scheme === 'http' || scheme === 'https') {
      // §4.3.1: an authority (non-empty, same in both places, no userinfo) for http and https.
      if (authority === null && host === null) return 'neither :authority nor host';
      if (authority !== null && authority.length === 0) return 'empty :authority';
      if (host !== null && host.length === 0) return 'empty host';
      if (authority !== null && host !== null && authority !== host) return ':authority and host differ';
      if (authority !== null && authority.includes('@')) return 'userinfo in :authority';
      if (path[0] !== '/' && !(path === '*' && method === 'OPTIONS'))
        return `invalid :path ${JSON.stringify(path)}`;
    }
  }
  const length = contentLength(lengths);
  if (length === -2) return 'invalid content-length';
  return { method, contentLength: length };
}

/**
 * Validates a response header section (RFC 9114 §4.3.2, §4.5): exactly one three-digit :status
 * (never 101), no other pseudo-header field, valid regular fields.
 */
export function checkResponse(headers: readonly FieldLine[]): ResponseInfo | string {
  let status: string | null = null;
  let regular = false;
  const lengths: string[] = [];
  for (const [name, value] of headers) {
    if (name.startsWith(':')) {
      if (regular) return `pseudo-header field ${name} after a regular field`;
      if (name !== ':status') return `pseudo-header field ${name} in a response`;
      if (status !== null) return 'repeated :status';
      status = value;
      continue;
    }
    regular = true;
    const bad = invalidRegularField(name, value, false);
    if (bad !== null) return bad;
    if (name === 'content-length') lengths.push(value);
  }
  if (status === null) return 'missing :status';
  if (!/^[1-5][0-9][0-9]$/.test(status)) return `invalid :status ${JSON.stringify(status)}`;
  if (status === '101') return ':status 101 (RFC 9114 §4.5: no Upgrade in HTTP/3)';
  const length = contentLength(lengths);
  if (length === -2) return 'invalid content-length';
  return { status: Number(status), contentLength: length };
}

/** Validates a trailer section (RFC 9114 §4.3: no pseudo-header fields). Returns the reason, or null. */
export function checkTrailers(headers: readonly FieldLine[]): string | null {
  for (const [name, value] of headers) {
    if (name.startsWith(':')) return `pseudo-header field ${name} in trailers`;
    const bad = invalidRegularField(name, value, false);
    if (bad !== null) return bad;
  }
  return null;
}

/**
 * Whether a response to `method` with `status` never has content, whatever its Content-Length
 * says (RFC 9114 §4.1.2, RFC 9110 §6.4.1): to HEAD, and 1xx, 204 and 304 responses.
 */
export function responseHasNoContent(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}
