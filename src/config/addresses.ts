// Listen addresses (host:port), node URLs (http/https with an explicit port) and node names.

import { isIP } from 'node:net';
import { fail, ok, show, type Parsed } from './parsed.js';

export interface ListenAddress {
  /** Hostname or IP address; an IPv6 address without brackets. */
  readonly host: string;
  /** 1..65535 */
  readonly port: number;
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const NAME_EXPECTED =
  'a name of 1 to 63 letters, digits, "_", "." or "-", starting with a letter or digit';

const HOSTNAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
const LISTEN_EXPECTED = 'host:port, such as 127.0.0.1:7400, 0.0.0.0:7400 or [::1]:7400';
const URL_EXPECTED = 'an http or https URL with a host and a port, such as http://10.0.0.1:7400';

export function parseName(input: string): Parsed<string> {
  return NAME_PATTERN.test(input) ? ok(input) : fail(`expected ${NAME_EXPECTED}, got ${show(input)}`);
}

export function parseListenAddress(input: string): Parsed<ListenAddress> {
  if (/^[a-z]+:\/\//i.test(input)) {
    return fail(`expected ${LISTEN_EXPECTED} (an address to bind, not a URL), got ${show(input)}`);
  }
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(input);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined) return fail(`expected ${LISTEN_EXPECTED}, got ${show(input)}`);
  const bracketed = m[1] !== undefined;
  if (bracketed ? isIP(host) !== 6 : !isHostname(host)) {
    return fail(`expected ${LISTEN_EXPECTED}; ${show(host)} is not a valid host`);
  }
  const port = parsePort(m[3] ?? '');
  if (port === undefined) return fail(`expected ${LISTEN_EXPECTED}; port ${m[3] ?? ''} is not in 1..65535`);
  return ok({ host, port });
}

/**
 * A node URL, normalized to `scheme://host:port` (lower case, no trailing slash). The port must be
 * written out, and the host must be one other machines can connect to (not 0.0.0.0 or ::).
 */
export function parseNodeUrl(input: string): Parsed<string> {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(?:\[([^\]]*)\]|([^/?#:@[\]]*)):(\d{1,5})\/?$/.exec(input);
  const host = m?.[2] ?? m?.[3];
  if (m === null || host === undefined) {
    const why = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(input)
      ? ' (credentials do not belong in the URL: use secret)'
      : /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*[/?#]./i.test(input)
        ? ' (no path, query or fragment)'
        : /^[a-z][a-z0-9+.-]*:\/\/[^/?#:]*(\/|$)/i.test(input)
          ? ' (the port is missing)'
          : '';
    return fail(`expected ${URL_EXPECTED}${why}, got ${show(input)}`);
  }
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    return fail(`expected ${URL_EXPECTED}; scheme ${show(scheme)} is not http or https`);
  }
  const bracketed = m[2] !== undefined;
  if (bracketed ? isIP(host) !== 6 : !isHostname(host)) {
    return fail(`expected ${URL_EXPECTED}; ${show(host)} is not a valid host`);
  }
  if (isWildcardHost(host)) {
    return fail(
      `expected ${URL_EXPECTED}; ${host} means "every interface" to a server and cannot be connected to, got ${show(input)}`,
    );
  }
  const port = parsePort(m[4] ?? '');
  if (port === undefined) return fail(`expected ${URL_EXPECTED}; port ${m[4] ?? ''} is not in 1..65535`);
  const hostPart = bracketed ? `[${host.toLowerCase()}]` : host.toLowerCase();
  return ok(`${scheme}://${hostPart}:${port}`);
}

/** The URL a listen address is reached at, for the advertise-url default. */
export function urlOfListenAddress(address: ListenAddress): string {
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `http://${host.toLowerCase()}:${address.port}`;
}

/** localhost, 127.0.0.0/8 or ::1: only processes on this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** 0.0.0.0 or :: (bind to every interface). */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || (isIP(host) === 6 && /^[0:]+$/.test(host));
}

function isHostname(host: string): boolean {
  if (/^[\d.]+$/.test(host)) return isIP(host) === 4; // digits and dots: must be a real IPv4 address
  return host.length <= 253 && HOSTNAME.test(host);
}

function parsePort(digits: string): number | undefined {
  const port = Number(digits);
  return /^\d{1,5}$/.test(digits) && port >= 1 && port <= 65535 ? port : undefined;
}
