// Public entry of the node configuration: loadNodeConfig turns a YAML file (--config-file),
// flags and CONCLAVE_* environment variables into one validated NodeConfig, or throws a
// ConfigError listing every problem. Anything not exported here is internal.

export { loadNodeConfig, helpRequested, defaultDataDir } from './load.js';
export { ConfigError, CONFIG_INVALID, formatConfigError } from './errors.js';
export { configHelp } from './help.js';
export { redactConfig } from './redact.js';
export { parseDuration, parseSize, formatDuration, formatSize } from './units.js';
export { SETTINGS, FOREIGN_ENV_VARS, CONFIG_FILE_ENV, CONFIG_FILE_FLAG } from './settings.js';
export { LOG_LEVELS, NODE_ROLES, INITIAL_CLUSTER_STATES } from './schema.js';
export { MIN_SECRET_LENGTH } from './secret.js';
export { MIN_ELECTION_TO_HEARTBEAT } from './checks.js';

export type { LoadNodeConfigOptions } from './load.js';
export type { ConfigIssue, ConfigIssueCode, ConfigSource } from './errors.js';
export type {
  ClusterMember,
  InitialClusterState,
  ListenAddress,
  LogLevel,
  NodeConfig,
  NodeRole,
} from './types.js';
export type { SettingKey, SettingSpec } from './settings.js';
export type { Parsed } from './parsed.js';
