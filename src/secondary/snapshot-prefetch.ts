import { existsSync } from 'node:fs';
import type { NodeConfig } from '../config/index.js';
import { authorizationHeader, clientSecretOf } from '../server/http/client-auth.js';
import { SnapshotPrefetch } from './snapshot-fetch.js';

/**
 * The early snapshot download for a secondary about to start (see SnapshotPrefetch), from the
 * first join URL, which the first bootstrap attempt uses; none when a state file will be served.
 * Light on purpose: it runs before the secondary's code is loaded.
 */
export function snapshotPrefetchFor(config: NodeConfig): SnapshotPrefetch | undefined {
  const url = config.join[0];
  if (url === undefined) return undefined;
  if (config.stateFile !== undefined && existsSync(config.stateFile)) return undefined;
  return new SnapshotPrefetch(url, authorizationHeader(clientSecretOf(config)), config.joinTimeoutMs);
}
