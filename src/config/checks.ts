// Checks that involve more than one setting, on the winning values. Each issue is reported
// against the setting that was given explicitly (a default is rarely what needs changing), and
// its message names the other setting and where that one came from.

import { isIP } from 'node:net';
import { isLoopbackHost, isWildcardHost, urlOfListenAddress, type ListenAddress } from './addresses.js';
import type { ConfigIssue } from './errors.js';
import type { SecretResolution } from './secret.js';
import type { SettingKey } from './settings.js';
import type { Resolved, ResolvedSettings } from './types.js';
import { formatDuration, formatSize } from './units.js';

export const MIN_ELECTION_TO_HEARTBEAT = 5;

function hostPort(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** " (flag --listen)", " (default)". */
export function from(r: Resolved<unknown>): string {
  return r.source === 'default' ? ' (default)' : ` (${r.source} ${r.detail})`;
}

function issueAt(
  code: ConfigIssue['code'],
  key: SettingKey,
  r: Resolved<unknown> | undefined,
  message: string,
): ConfigIssue {
  if (r === undefined) return { code, key, source: 'default', sourceDetail: 'not set', message };
  return { code, key, source: r.source, sourceDetail: r.detail, message };
}

/** Of two settings in a conflict, the one to report: the explicitly given one, else the first. */
function blame(
  a: [SettingKey, Resolved<unknown>],
  b: [SettingKey, Resolved<unknown>],
): [SettingKey, Resolved<unknown>] {
  return a[1].source === 'default' && b[1].source !== 'default' ? b : a;
}

export function checkTimings(s: ResolvedSettings): ConfigIssue[] {
  const heartbeat = s['heartbeat-interval'];
  const election = s['election-timeout'];
  if (heartbeat === undefined || election === undefined) return [];
  const minimum = MIN_ELECTION_TO_HEARTBEAT * heartbeat.value;
  if (election.value >= minimum) return [];
  const [key, at] = blame(['election-timeout', election], ['heartbeat-interval', heartbeat]);
  return [
    issueAt(
      'conflict',
      key,
      at,
      `election-timeout must be at least ${MIN_ELECTION_TO_HEARTBEAT} × heartbeat-interval, so a follower does not start an election while heartbeats are merely late: heartbeat-interval is ${formatDuration(heartbeat.value)}${from(heartbeat)}, so election-timeout must be ≥ ${formatDuration(minimum)}, got ${formatDuration(election.value)}${from(election)}`,
    ),
  ];
}

export function checkSizes(s: ResolvedSettings): ConfigIssue[] {
  const request = s['max-request-bytes'];
  if (request === undefined) return [];
  const issues: ConfigIssue[] = [];
  for (const key of ['max-key-bytes', 'max-value-bytes'] as const) {
    const limit = s[key];
    if (limit === undefined || limit.value <= request.value) continue;
    const [blamed, at] = blame([key, limit], ['max-request-bytes', request]);
    issues.push(
      issueAt(
        'conflict',
        blamed,
        at,
        `expected ${key} ≤ max-request-bytes, since a larger one could never arrive in a request: ${key} is ${formatSize(limit.value)}${from(limit)}, max-request-bytes is ${formatSize(request.value)}${from(request)}`,
      ),
    );
  }
  return issues;
}

export function checkSecretRequired(s: ResolvedSettings, secret: SecretResolution): ConfigIssue[] {
  const listen = s.listen;
  if (secret.state !== 'none' || listen === undefined || isLoopbackHost(listen.value.host)) return [];
  const shown = hostPort(listen.value);
  return [
    issueAt(
      'missing_value',
      'secret',
      undefined,
      `a cluster secret is required because listen ${shown}${from(listen)} is not a loopback address: without one, anyone who can reach that port could read and change the cluster's state and join it as a node. Set secret-file (or CONCLAVE_SECRET) to a secret of at least 16 characters shared by all nodes, or listen on 127.0.0.1 for a node that only this machine uses`,
    ),
  ];
}

/** Client authentication checks requests against the cluster secret, so it needs one. */
export function checkClientAuth(s: ResolvedSettings, secret: SecretResolution): ConfigIssue[] {
  const mode = s['client-auth'];
  if (mode?.value !== 'secret' || secret.state !== 'none') return [];
  return [
    issueAt(
      'missing_value',
      'secret',
      undefined,
      `client-auth is secret${from(mode)}, but no secret is set: set secret or secret-file (or CONCLAVE_SECRET)`,
    ),
  ];
}

/**
 * The primaries of a new cluster are listed in initial-cluster, and this node must find itself
 * there by name; a secondary must not be listed.
 */
export function checkMembership(s: ResolvedSettings, failed: ReadonlySet<SettingKey>): ConfigIssue[] {
  if (failed.has('name')) return [];
  const cluster = s['initial-cluster'];
  const role = s.role;
  const state = s['initial-cluster-state'];
  const name = s.name;
  if (cluster === undefined || role === undefined || state === undefined || cluster.value.length === 0)
    return [];
  const names = cluster.value.map((m) => m.name).join(', ');
  const listed = name !== undefined && cluster.value.some((m) => m.name === name.value);
  if (role.value === 'secondary') {
    if (name === undefined || !listed) return [];
    return [
      issueAt(
        'conflict',
        'name',
        name,
        `"${name.value}" is listed in initial-cluster${from(cluster)}, which lists the primaries, but role is secondary${from(role)}; set role to primary or use another name`,
      ),
    ];
  }
  if (state.value !== 'new') return [];
  if (name === undefined) {
    return [
      issueAt(
        'missing_value',
        'name',
        undefined,
        `initial-cluster${from(cluster)} lists ${names} and initial-cluster-state is new, so this node must say which of them it is: set name (e.g. --name ${cluster.value[0]?.name ?? 'n1'})`,
      ),
    ];
  }
  if (listed) return [];
  return [
    issueAt(
      'conflict',
      'name',
      name,
      `"${name.value}" is not in initial-cluster${from(cluster)}, which lists ${names}; with initial-cluster-state new every primary of the new cluster must be listed there (to add a node to a running cluster, use initial-cluster-state existing)`,
    ),
  ];
}

/**
 * advertise-url: as given; else this node's URL in initial-cluster; else http://<listen>, unless
 * listen binds every interface (0.0.0.0, ::), which says nothing of how to reach the node.
 */
export function resolveAdvertiseUrl(
  s: ResolvedSettings,
  failed: ReadonlySet<SettingKey>,
  issues: ConfigIssue[],
): Resolved<string> | undefined {
  if (failed.has('advertise-url') || failed.has('name') || failed.has('initial-cluster')) return undefined;
  const given = s['advertise-url'];
  const cluster = s['initial-cluster'];
  const state = s['initial-cluster-state'];
  const name = s.name;
  const own = name === undefined ? undefined : cluster?.value.find((m) => m.name === name.value);
  if (given !== undefined) {
    if (own !== undefined && cluster !== undefined && state?.value === 'new' && own.url !== given.value) {
      issues.push(
        issueAt(
          'conflict',
          'advertise-url',
          given,
          `advertise-url ${given.value} differs from this node's URL in initial-cluster, ${own.name}=${own.url}${from(cluster)}; the other nodes would use the initial-cluster URL. Make them equal, or leave advertise-url unset to use the initial-cluster URL`,
        ),
      );
    }
    return given;
  }
  if (own !== undefined && cluster !== undefined)
    return { value: own.url, source: cluster.source, detail: cluster.detail };
  const listen = s.listen;
  if (listen === undefined) return undefined;
  if (isWildcardHost(listen.value.host)) {
    issues.push(
      issueAt(
        'missing_value',
        'advertise-url',
        undefined,
        `listen ${hostPort(listen.value)}${from(listen)} binds every interface, which does not tell the other nodes how to reach this one: set advertise-url (e.g. http://10.0.0.5:${listen.value.port}), or list this node in initial-cluster`,
      ),
    );
    return undefined;
  }
  return { value: urlOfListenAddress(listen.value), source: listen.source, detail: listen.detail };
}
