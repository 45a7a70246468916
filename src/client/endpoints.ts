// Endpoint lists as users write them: `--endpoints`, CONCLAVE_ENDPOINTS, or an array.

import { ConclaveError } from './errors.js';

/**
 * Splits `"http://a:7401 http://b:7401,http://c:7401"` (space- or comma-separated, as
 * orchestrator-client's ORCHESTRATOR_API) into normalized base URLs without a trailing slash.
 * A bare `host:port` means `http://host:port`. Throws INVALID_ARGUMENT for anything else.
 */
export function parseEndpoints(input: string | readonly string[]): string[] {
  const parts = (typeof input === 'string' ? [input] : input)
    .flatMap((s) => s.split(/[\s,]+/))
    .filter((s) => s !== '');
  if (parts.length === 0) {
    throw new ConclaveError('INVALID_ARGUMENT', 'no endpoints given', { details: { endpoints: [] } });
  }
  const out: string[] = [];
  for (const part of parts) {
    const url = normalizeEndpoint(part);
    if (!out.includes(url)) out.push(url);
  }
  return out;
}

export function normalizeEndpoint(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConclaveError('INVALID_ARGUMENT', `not an endpoint URL: ${JSON.stringify(raw)}`, {
      details: { endpoint: raw },
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConclaveError('INVALID_ARGUMENT', `endpoint must be http(s): ${JSON.stringify(raw)}`, {
      details: { endpoint: raw },
    });
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConclaveError(
      'INVALID_ARGUMENT',
      `endpoint must be scheme://host:port: ${JSON.stringify(raw)}`,
      {
        details: { endpoint: raw },
      },
    );
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
