// One zod schema per setting. Each accepts the raw value from any source (a string from a flag or
// an environment variable; a string, number, list or map from YAML) and yields the typed value;
// every failure message says what was expected and what was given.

import * as z from 'zod';
import { NAME_EXPECTED, parseListenAddress, parseName, parseNodeUrl } from './addresses.js';
import {
  checkMembers,
  INITIAL_CLUSTER_EXPECTED,
  splitInitialCluster,
  splitPair,
  type MemberInput,
} from './initial-cluster.js';
import { show, type Parsed } from './parsed.js';
import type { SettingKey } from './settings.js';
import {
  DURATION_EXPECTED,
  formatDuration,
  formatSize,
  parseDuration,
  parseSize,
  SIZE_EXPECTED,
} from './units.js';

export const NODE_ROLES = ['primary', 'secondary'] as const;
export const CLIENT_AUTH_MODES = ['none', 'secret'] as const;
export const INITIAL_CLUSTER_STATES = ['new', 'existing'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const expected = (what: string) => (issue: { readonly input?: unknown }) =>
  `expected ${what}, got ${show(issue.input)}`;

/** The kind of a value without the value itself (for the secret). */
function kindOf(input: unknown): string {
  if (input === null) return 'null';
  return Array.isArray(input) ? 'list' : typeof input === 'object' ? 'map' : typeof input;
}

/** Runs a small parser inside a zod pipeline, turning its failure into an issue. */
function via<I, T>(parse: (input: I) => Parsed<T>) {
  return (input: I, ctx: z.RefinementCtx<I>): T => {
    const r = parse(input);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  };
}

function text(what: string) {
  return z.string({ error: expected(what) }).min(1, { error: `expected ${what}, got an empty string` });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expected(`one of ${values.join(', ')}`) });
}

/** A whole number, from YAML as a number or from any source as decimal digits. */
function integer(min: number) {
  const what = `an integer ≥ ${min}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.int({ error: expected(what) }).min(min, { error: expected(what) }),
  );
}

function duration(minMs: number) {
  return z
    .union([z.string(), z.number()], { error: expected(DURATION_EXPECTED) })
    .transform(via(parseDuration))
    .pipe(
      z.number().min(minMs, {
        error: (i) => `expected at least ${formatDuration(minMs)}, got ${formatDuration(Number(i.input))}`,
      }),
    );
}

function size(minBytes: number) {
  return z
    .union([z.string(), z.number()], { error: expected(SIZE_EXPECTED) })
    .transform(via(parseSize))
    .pipe(
      z.number().min(minBytes, {
        error: (i) => `expected at least ${formatSize(minBytes)}, got ${formatSize(Number(i.input))}`,
      }),
    );
}

const nodeName = text(NAME_EXPECTED).transform(via(parseName));
const nodeUrl = text('an http or https URL with a host and a port').transform(via(parseNodeUrl));

/** One list item of initial-cluster in YAML: `n1=http://...` or `n1: http://...`. */
function memberItem(raw: unknown, label: string): MemberInput | string {
  if (typeof raw === 'string') return splitPair(raw) ?? `expected name=url at ${label}, got ${show(raw)}`;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = Object.entries(raw);
    const [first] = entries;
    if (entries.length === 1 && first !== undefined && typeof first[1] === 'string') {
      return { name: first[0], url: first[1], label: show(`${first[0]}=${first[1]}`) };
    }
  }
  return `expected name=url or name: url at ${label}, got ${show(raw)}`;
}

const initialCluster = z
  .union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())], {
    error: expected(INITIAL_CLUSTER_EXPECTED),
  })
  .transform((raw, ctx) => {
    const inputs: (MemberInput | string)[] =
      typeof raw === 'string'
        ? splitInitialCluster(raw)
        : Array.isArray(raw)
          ? raw.map((item, i) => memberItem(item, `item ${i + 1}`))
          : Object.entries(raw).map(([name, url]) =>
              typeof url === 'string'
                ? { name, url, label: show(`${name}=${url}`) }
                : `expected a URL for member ${show(name)}, got ${show(url)}`,
            );
    const { members, problems } = checkMembers(inputs);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return problems.length > 0 ? z.NEVER : members;
  });

const urlList = z
  .union([z.string(), z.array(z.string())], {
    error: expected('a list of URLs, or URLs separated by commas'),
  })
  .transform((raw, ctx) => {
    const pieces = (Array.isArray(raw) ? raw : [raw])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const urls: string[] = [];
    for (const piece of pieces) {
      const url = parseNodeUrl(piece);
      if (!url.ok) ctx.addIssue({ code: 'custom', message: url.message });
      else if (urls.includes(url.value))
        ctx.addIssue({ code: 'custom', message: `duplicate URL ${url.value}` });
      else urls.push(url.value);
    }
    return urls;
  });

/**
 * The schema of each setting. The secret's schema never echoes the value it was given.
 * Checks that involve several settings are in checks.ts.
 */
export const SETTING_SCHEMAS = {
  name: nodeName,
  'cluster-name': nodeName,
  role: oneOf(NODE_ROLES),
  listen: text('host:port').transform(via(parseListenAddress)),
  'advertise-url': nodeUrl,
  'initial-cluster': initialCluster,
  'initial-cluster-state': oneOf(INITIAL_CLUSTER_STATES),
  'data-dir': text('a directory path'),
  'minimum-nodes': integer(1),
  'heartbeat-interval': duration(1),
  'election-timeout': duration(1),
  'member-heartbeat-interval': duration(100),
  'snapshot-threshold': integer(1),
  'snapshot-trailing-entries': integer(0),
  secret: z
    .string({ error: (i) => `expected a string (quote it in YAML), got a ${kindOf(i.input)}` })
    .min(1, { error: 'expected a secret, got an empty string' }),
  'secret-file': text('a file path'),
  'log-level': oneOf(LOG_LEVELS),
  'max-request-bytes': size(1),
  'max-key-bytes': size(1),
  'max-value-bytes': size(1),
  join: urlList,
  'join-retries': integer(0),
  'join-timeout': duration(100),
  'stale-after': duration(1),
  'state-file': text('a file path'),
  'client-auth': oneOf(CLIENT_AUTH_MODES),
  'snapshot-compression': integer(-1).pipe(z.number().max(9, { error: 'expected at most 9' })),
  'snapshot-concurrency': integer(1),
} as const satisfies Readonly<Record<SettingKey, z.ZodType>>;

/** The typed value of each setting. */
export type SettingValues = { readonly [K in SettingKey]: z.output<(typeof SETTING_SCHEMAS)[K]> };
