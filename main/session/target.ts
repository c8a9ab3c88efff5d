/**
 * Parses what the user typed as a target: "https://host[:port]/path", "host:port", "[v6]:port",
 * "v6 literal", or a bare host (port 443). A RequestFailure('bad_request') for anything else.
 */
import { isIP } from 'node:net';
import { RequestFailure } from './failure.ts';

/** A parsed target. */
export interface Target {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  /** The request path of a URL target ("/" otherwise). */
  path: string;
}

const DEFAULT_PORT = 443;

/** Parses a target string (see the module comment). */
export function parseTarget(input: string): Target {
  const text = input.trim();
  if (text === '') throw new RequestFailure('bad_request', 'the target is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new RequestFailure('bad_request', `not a valid URL: ${text}`);
    }
    if (url.protocol !== 'https:')
      throw new RequestFailure(
        'bad_request',
        `only https:// URLs can be reached over QUIC, not ${url.protocol}//`,
      );
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
    return { host: checkHost(host), port, path: `${url.pathname}${url.search}` || '/' };
  }
  // "[v6]:port" or "[v6]"
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket !== null) {
    if (isIP(bracket[1]) !== 6) throw new RequestFailure('bad_request', `not an IPv6 address: ${bracket[1]}`);
    return { host: bracket[1], port: parsePort(bracket[2]), path: '/' };
  }
  if (isIP(text) === 6) return { host: text, port: DEFAULT_PORT, path: '/' };
  const slash = text.indexOf('/');
  const hostPort = slash >= 0 ? text.slice(0, slash) : text;
  const path = slash >= 0 ? text.slice(slash) : '/';
  const colon = hostPort.lastIndexOf(':');
  if (colon >= 0)
    return { host: checkHost(hostPort.slice(0, colon)), port: parsePort(hostPort.slice(colon + 1)), path };
  return { host: checkHost(hostPort), port: DEFAULT_PORT, path };
}

function parsePort(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new RequestFailure('bad_request', `not a UDP port: ${text}`);
  return port;
}

function checkHost(host: string): string {
  if (isIP(host) !== 0) return host;
  // RFC 1123 host names (letters, digits, hyphens, dots), plus '_' seen in the wild.
  if (host.length === 0 || host.length > 253 || !/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/.test(host))
    throw new RequestFailure('bad_request', `not a host name: ${JSON.stringify(host)}`);
  return host.toLowerCase();
}

/** "host:port" with brackets around an IPv6 literal; the :authority of a request (RFC 9114 §4.3.1). */
export function authorityOf(host: string, port: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === DEFAULT_PORT ? h : `${h}:${port}`;
}
