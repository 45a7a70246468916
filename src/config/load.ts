// loadNodeConfig: flags, CONCLAVE_* environment variables and the YAML file, merged by precedence
// (flags > env > file > defaults), validated as a whole, every problem reported at once.

import { resolve } from 'node:path';
import {
  checkMembership,
  checkClientAuth,
  checkSecretRequired,
  checkSizes,
  checkTimings,
  resolveAdvertiseUrl,
} from './checks.js';
import { ConfigError, type ConfigIssue, type ConfigSource } from './errors.js';
import { SETTING_SCHEMAS, type SettingValues } from './schema.js';
import { resolveSecret } from './secret.js';
import { isSettingKey, SETTINGS, type SettingKey } from './settings.js';
import { readConfigFile, readEnv, readFlags } from './sources.js';
import type { NodeConfig, Resolved, ResolvedSettings } from './types.js';

export interface LoadNodeConfigOptions {
  /** The command-line arguments after `server`. */
  readonly argv: readonly string[];
  /** Usually process.env. */
  readonly env: NodeJS.ProcessEnv;
  /** Relative paths (config file, data dir, secret file) are resolved against it. */
  readonly cwd: string;
  /**
   * Settings given in code (startNode), by their file key (`data-dir`): the highest precedence.
   * Values are checked as the YAML file's are.
   */
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * The node configuration, or a ConfigError listing every problem. Every value given is
 * validated, including one overridden by a higher-precedence source, so a file shared by all
 * nodes is checked in full on each of them. Reads the config file and the secret file
 * synchronously (this runs once, at start).
 */
export function loadNodeConfig(options: LoadNodeConfigOptions): NodeConfig {
  const flags = readFlags(options.argv);
  const env = readEnv(options.env);
  const ref = flags.configFile ?? env.configFile;
  const configFile = ref === undefined ? undefined : resolve(options.cwd, ref.path);
  const file = ref === undefined || configFile === undefined ? undefined : readConfigFile(configFile, ref);
  const given = readOptions(options.options ?? {});
  const issues: ConfigIssue[] = [...given.issues, ...flags.issues, ...env.issues, ...(file?.issues ?? [])];

  // Highest precedence first; the defaults last.
  const raw: Candidate[] = [
    ...given.values,
    ...flags.values,
    ...env.values,
    ...(file?.values ?? []),
    ...defaultValues(),
  ];
  const { settings, failed } = validate(raw, issues);

  const secret = resolveSecret(settings, failed, options.cwd, issues);
  issues.push(...checkTimings(settings), ...checkSizes(settings), ...checkSecretRequired(settings, secret));
  issues.push(...checkClientAuth(settings, secret));
  issues.push(...checkMembership(settings, failed));
  const advertiseUrl = resolveAdvertiseUrl(settings, failed, issues);

  if (issues.length > 0) throw new ConfigError(issues);
  if (advertiseUrl === undefined) throw new Error('config: advertise-url could not be derived (a bug)');
  const need = <K extends SettingKey>(key: K): SettingValues[K] => {
    const r = settings[key];
    if (r === undefined) throw new Error(`config: ${key} has no value and no default (a bug)`);
    return r.value;
  };
  const dataDir = settings['data-dir']?.value;
  return {
    name: settings.name?.value,
    clusterName: need('cluster-name'),
    role: need('role'),
    listen: need('listen'),
    advertiseUrl: advertiseUrl.value,
    initialCluster: need('initial-cluster'),
    initialClusterState: need('initial-cluster-state'),
    dataDir: dataDir === undefined ? undefined : resolve(options.cwd, dataDir),
    minimumNodes: need('minimum-nodes'),
    heartbeatIntervalMs: need('heartbeat-interval'),
    electionTimeoutMs: need('election-timeout'),
    memberHeartbeatIntervalMs: need('member-heartbeat-interval'),
    snapshotThreshold: need('snapshot-threshold'),
    snapshotTrailingEntries: need('snapshot-trailing-entries'),
    secret: secret.state === 'set' ? secret.secret.value : undefined,
    logLevel: need('log-level'),
    maxRequestBytes: need('max-request-bytes'),
    maxKeyBytes: need('max-key-bytes'),
    maxValueBytes: need('max-value-bytes'),
    join: need('join'),
    staleAfterMs: settings['stale-after']?.value,
    joinRetries: need('join-retries'),
    joinTimeoutMs: need('join-timeout'),
    stateFile:
      settings['state-file'] === undefined ? undefined : resolve(options.cwd, settings['state-file'].value),
    snapshotCompression: need('snapshot-compression'),
    snapshotConcurrency: need('snapshot-concurrency'),
    clientAuth: need('client-auth'),
    configFile,
  };
}

/** Settings given in code; an unknown key is an issue, as in the file. */
function readOptions(options: Readonly<Record<string, unknown>>): {
  values: Candidate[];
  issues: ConfigIssue[];
} {
  const values: Candidate[] = [];
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const detail = `startNode({ ${key} })`;
    if (!isSettingKey(key)) {
      issues.push({
        code: 'unknown_setting',
        key,
        source: 'option',
        sourceDetail: detail,
        message: `unknown setting; ${SEE_SETTINGS}`,
      });
      continue;
    }
    values.push({ key, value, source: 'option', detail });
  }
  return { values, issues };
}

const SEE_SETTINGS = 'the settings are listed in docs/CONFIG.md';

/** Whether the arguments ask for help (`--help` or `-h`); the CLI then prints configHelp(). */
export function helpRequested(argv: readonly string[]): boolean {
  return readFlags(argv).help;
}

/** Where a node keeps its data when data-dir is not set. */
export function defaultDataDir(cwd: string, name: string): string {
  return resolve(cwd, 'conclave-data', name);
}

/** A raw value from any source, the defaults included. */
interface Candidate {
  readonly key: SettingKey;
  readonly value: unknown;
  readonly source: ConfigSource;
  readonly detail: string;
}

function defaultValues(): Candidate[] {
  return SETTINGS.filter((s) => s.default !== undefined).map((s) => ({
    key: s.key,
    value: s.default,
    source: 'default',
    detail: 'default',
  }));
}

/**
 * Validates every raw value with its setting's schema. The first value of each key (the highest
 * precedence) wins; if it is invalid, the key is marked failed and lower ones are not used.
 */
function validate(
  raw: readonly Candidate[],
  issues: ConfigIssue[],
): { settings: ResolvedSettings; failed: Set<SettingKey> } {
  const settings: Partial<Record<SettingKey, Resolved<unknown>>> = {};
  const failed = new Set<SettingKey>();
  const decided = new Set<SettingKey>();
  for (const value of raw) {
    const source = value.source;
    const result = SETTING_SCHEMAS[value.key].safeParse(value.value);
    const first = !decided.has(value.key);
    decided.add(value.key);
    if (result.success) {
      if (first) settings[value.key] = { value: result.data, source, detail: value.detail };
      continue;
    }
    if (first) failed.add(value.key);
    for (const zodIssue of result.error.issues) {
      issues.push({
        code: 'invalid_value',
        key: value.key,
        source,
        sourceDetail: value.detail,
        message: zodIssue.message,
      });
    }
  }
  return { settings: settings as ResolvedSettings, failed };
}
