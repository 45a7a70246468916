// The validated configuration of one `conclave server` node, and its parts.

import type { ListenAddress } from './addresses.js';
import type { ConfigSource } from './errors.js';
import type { ClusterMember } from './initial-cluster.js';
import type { INITIAL_CLUSTER_STATES, LOG_LEVELS, NODE_ROLES, SettingValues } from './schema.js';
import type { SettingKey } from './settings.js';

export type { ClusterMember } from './initial-cluster.js';
export type { ListenAddress } from './addresses.js';

export type NodeRole = (typeof NODE_ROLES)[number];
export type InitialClusterState = (typeof INITIAL_CLUSTER_STATES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface NodeConfig {
  /** undefined: not given; the server generates a name and keeps it in the data dir. */
  readonly name: string | undefined;
  readonly clusterName: string;
  readonly role: NodeRole;
  readonly listen: ListenAddress;
  /** Normalized `scheme://host:port`; derived from initial-cluster or listen when not given. */
  readonly advertiseUrl: string;
  /** The primaries of a new cluster; empty: a one-node cluster of this node. Names and URLs are unique. */
  readonly initialCluster: readonly ClusterMember[];
  readonly initialClusterState: InitialClusterState;
  /** Absolute; undefined: derive `<cwd>/conclave-data/<name>` once the name is known (see defaultDataDir). */
  readonly dataDir: string | undefined;
  /** ≥ 1 */
  readonly minimumNodes: number;
  /** ≥ 1 */
  readonly heartbeatIntervalMs: number;
  /** ≥ 5 × heartbeatIntervalMs */
  readonly electionTimeoutMs: number;
  /** How often the member record is refreshed; it expires after 3 of these (≥ 100). */
  readonly memberHeartbeatIntervalMs: number;
  /** ≥ 1 */
  readonly snapshotThreshold: number;
  /** ≥ 0 */
  readonly snapshotTrailingEntries: number;
  /** ≥ 16 characters, no control characters; undefined only when listen is a loopback address. */
  readonly secret: string | undefined;
  readonly logLevel: LogLevel;
  readonly maxRequestBytes: number;
  /** ≤ maxRequestBytes */
  readonly maxKeyBytes: number;
  /** ≤ maxRequestBytes */
  readonly maxValueBytes: number;
  /** Normalized URLs, unique. */
  readonly join: readonly string[];
  readonly staleAfterMs: number | undefined;
  readonly joinRetries: number;
  readonly joinTimeoutMs: number;
  /** Absolute path; secondaries only. */
  readonly stateFile: string | undefined;
  /** gzip level -1 (off) … 9 */
  readonly snapshotCompression: number;
  /** GET /v1/snapshot served at once; more are refused with SNAPSHOT_BUSY. */
  readonly snapshotConcurrency: number;
  /** `secret`: client requests must carry `authorization: Bearer <secret>` (secret is then set). */
  readonly clientAuth: 'none' | 'secret';
  /** Absolute path of the YAML file read, if any. */
  readonly configFile: string | undefined;
}

/** A validated setting value and where it came from. */
export interface Resolved<T> {
  readonly value: T;
  readonly source: ConfigSource;
  readonly detail: string;
}

/** The winning value of each setting that is set and valid. */
export type ResolvedSettings = { readonly [K in SettingKey]?: Resolved<SettingValues[K]> };
