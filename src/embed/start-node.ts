// startNode: a Conclave node inside the application's own process, primary or secondary, with
// the client API, local reads and change callbacks.

import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { ConclaveClient } from '../client/client.js';
import { ConclaveError } from '../client/errors.js';
import type { ClientOptions } from '../client/client.js';
import { ConfigError, loadNodeConfig } from '../config/index.js';
import type { NodeConfig } from '../config/index.js';
import { SecondaryNode } from '../secondary/secondary-node.js';
import { ConclaveNode } from '../server/conclave-node.js';
import { resolveIdentity } from '../server/node-identity.js';
import { LocalReplica } from './local-replica.js';

type Setting = string | number | boolean | readonly string[];

export interface StartNodeOptions {
  /** Default `primary`. */
  readonly role?: 'primary' | 'secondary';
  /** Primaries: default the name kept in the data dir (generated once). */
  readonly name?: string;
  readonly clusterName?: string;
  /** The founding primaries: `n1=http://10.0.0.1:7401,...`, a name → URL map, or a list. */
  readonly initialCluster?:
    string | Readonly<Record<string, string>> | readonly { name: string; url: string }[];
  readonly initialClusterState?: 'new' | 'existing';
  readonly dataDir?: string;
  /** `host:port` to listen on (clients and peers). */
  readonly listen?: string;
  readonly advertiseUrl?: string;
  /** Secondaries: primaries to bootstrap from and follow. */
  readonly join?: string | readonly string[];
  readonly secret?: string;
  /** A YAML config file, read as `conclave server --config-file` reads it (options win over it). */
  readonly configFile?: string;
  /** Any other setting of docs/CONFIG.md by its file key, e.g. `{ 'heartbeat-interval': '50ms' }`. */
  readonly settings?: Readonly<Record<string, Setting>>;
  /** Default: pino at `log-level` (default `warn` when embedded) on stderr. */
  readonly logger?: Logger;
  /**
   * Secondaries: resolve only once the replica has its first state (from a snapshot or the
   * state file), so local reads and change callbacks start from a loaded state. Default true;
   * gives up with NOT_SYNCED (the node stopped) after `syncTimeoutMs` (default 30000).
   */
  readonly waitForSync?: boolean;
  readonly syncTimeoutMs?: number;
  /** Options of the node's client (its endpoints are this node, then the other primaries). */
  readonly client?: Omit<ClientOptions, 'endpoints' | 'secret'>;
}

/**
 * A running node: the whole client API through this node (writes go to the leader; reads are
 * linearizable on a primary, from the replica on a secondary), plus `local` for reads from this
 * node's own state and change callbacks.
 * stop() leaves the cluster cleanly and releases every handle.
 */
export class EmbeddedNode extends ConclaveClient {
  readonly name: string;
  readonly role: 'primary' | 'secondary';
  /** The URL other nodes and clients reach this node at. */
  readonly url: string;
  readonly local: LocalReplica;
  private readonly node: ConclaveNode | SecondaryNode;
  private stopping: Promise<void> | undefined;

  /** @internal use startNode() */
  constructor(
    node: ConclaveNode | SecondaryNode,
    config: NodeConfig & { name: string },
    logger: Logger,
    clientOptions: StartNodeOptions['client'],
  ) {
    const others = config.role === 'primary' ? config.initialCluster.map((m) => m.url) : [...config.join];
    super({
      ...clientOptions,
      endpoints: [config.advertiseUrl, ...others.filter((u) => u !== config.advertiseUrl)],
      ...(config.secret === undefined ? {} : { secret: config.secret }),
    });
    this.node = node;
    this.name = config.name;
    this.role = config.role;
    this.url = config.advertiseUrl;
    this.local = new LocalReplica(node.local(), (error) => {
      logger.error({ err: error }, 'a change listener failed');
    });
  }

  /** Stops the node (a leader hands leadership over first) and closes the client. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await super.close();
      await this.node.stop();
      this.local.close();
    })();
    return this.stopping;
  }

  /** Same as stop(). */
  override close(): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts a node in this process. Throws a ConfigError (with every problem) for bad options, a
 * StorageError when the data directory is refused, or the listen error (EADDRINUSE, …).
 */
export async function startNode(options: StartNodeOptions): Promise<EmbeddedNode> {
  const config = loadNodeConfig({
    argv: options.configFile === undefined ? [] : ['--config-file', options.configFile],
    env: {},
    cwd: process.cwd(),
    options: settingsOf(options),
  });
  if (config.role === 'secondary') {
    if (config.join.length === 0) {
      throw new ConfigError([
        {
          code: 'missing_value',
          key: 'join',
          source: 'option',
          sourceDetail: 'startNode({ join })',
          message: 'a secondary needs join: the URLs of one or more primaries',
        },
      ]);
    }
    const name = config.name ?? `secondary-${randomBytes(3).toString('hex')}`;
    const logger = loggerFor(options, config, name);
    const node = await SecondaryNode.start({ ...config, name }, logger);
    const embedded = new EmbeddedNode(node, { ...config, name }, logger, options.client);
    if (options.waitForSync ?? true) await untilSynced(embedded, options.syncTimeoutMs ?? 30_000);
    return embedded;
  }
  const identity = resolveIdentity(config, process.cwd());
  const logger = loggerFor(options, config, identity.name);
  const node = await ConclaveNode.start({ ...config, ...identity }, logger);
  return new EmbeddedNode(node, { ...config, ...identity }, logger, options.client);
}

async function untilSynced(node: EmbeddedNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!node.local.synced) {
    if (Date.now() > deadline) {
      await node.stop();
      throw new ConclaveError(
        'NOT_SYNCED',
        `no primary gave this secondary its state within ${timeoutMs} ms`,
        {
          status: 503,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function settingsOf(options: StartNodeOptions): Record<string, unknown> {
  const initialCluster = options.initialCluster;
  const named: Record<string, unknown> = {
    role: options.role,
    name: options.name,
    'cluster-name': options.clusterName,
    'initial-cluster':
      initialCluster === undefined || typeof initialCluster === 'string'
        ? initialCluster
        : (Array.isArray(initialCluster)
            ? (initialCluster as readonly { name: string; url: string }[])
            : Object.entries(initialCluster as Readonly<Record<string, string>>).map(([name, url]) => ({
                name,
                url,
              }))
          )
            .map((m) => `${m.name}=${m.url}`)
            .join(','),
    'initial-cluster-state': options.initialClusterState,
    'data-dir': options.dataDir,
    listen: options.listen,
    'advertise-url': options.advertiseUrl,
    join:
      typeof options.join === 'string' || options.join === undefined ? options.join : options.join.join(','),
    secret: options.secret,
  };
  const settings: Record<string, unknown> = { ...(options.settings ?? {}) };
  // A named option given wins over the same key in `settings`; one not given leaves it alone.
  for (const [key, value] of Object.entries(named)) if (value !== undefined) settings[key] = value;
  // Quiet by default inside an application, unless a level or a config file says otherwise.
  if (
    settings['log-level'] === undefined &&
    options.logger === undefined &&
    options.configFile === undefined
  ) {
    settings['log-level'] = 'warn';
  }
  return settings;
}

function loggerFor(options: StartNodeOptions, config: NodeConfig, name: string): Logger {
  if (options.logger !== undefined) return options.logger.child({ node: name });
  return pino({ level: config.logLevel, base: { node: name } }, pino.destination(2));
}
