import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { Logger } from 'pino';
import {
  configHelp,
  ConfigError,
  formatConfigError,
  helpRequested,
  loadNodeConfig,
} from '../config/index.js';
import type { NodeConfig } from '../config/index.js';
import type { SecondaryNode } from '../secondary/secondary-node.js';
import type { ConclaveNode } from '../server/conclave-node.js';
import { resolveIdentity } from '../server/node-identity.js';
import { EXIT } from './exit-codes.js';

/**
 * `conclave server [settings]`: runs one node until SIGTERM/SIGINT, then stops gracefully
 * (a leader hands leadership over first). A second signal exits at once.
 */
export async function runServer(argv: readonly string[]): Promise<number> {
  if (helpRequested(argv)) {
    process.stdout.write(`Usage: conclave server [settings]\n\n${configHelp()}\n`);
    return EXIT.ok;
  }
  let config;
  try {
    config = loadNodeConfig({ argv: [...argv], env: process.env, cwd: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${formatConfigError(error)}\n`);
      return EXIT.badConfig;
    }
    throw error;
  }
  if (config.role === 'secondary') return runSecondary(config);
  const identity = resolveIdentity(config, process.cwd());
  const logger = pino({ level: config.logLevel, base: { node: identity.name } });
  // Each role loads only its own code (a secondary has no Raft, storage or metrics): start-up
  // time is part of how fast a new secondary serves.
  const [{ ConclaveNode }, { StorageError }] = await Promise.all([
    import('../server/conclave-node.js'),
    import('../storage/index.js'),
  ]);
  let node: ConclaveNode;
  try {
    node = await ConclaveNode.start({ ...config, ...identity }, logger);
  } catch (error) {
    if (error instanceof StorageError) {
      process.stderr.write(`conclave: refusing to start: ${error.message} [${error.code}]\n`);
      return EXIT.dataRefused;
    }
    if (cannotListen(config, error)) return EXIT.badConfig;
    throw error;
  }
  return untilSignal(node, logger);
}

/** A secondary needs no data dir: its name is configured or made up for this run. */
async function runSecondary(config: NodeConfig): Promise<number> {
  const name = config.name ?? `secondary-${randomBytes(3).toString('hex')}`;
  const logger = pino({ level: config.logLevel, base: { node: name } });
  if (config.join.length === 0) {
    process.stderr.write(
      'conclave: a secondary needs join: the URLs of one or more primaries (--join URL,...)\n',
    );
    return EXIT.badConfig;
  }
  // The snapshot download starts before the rest of the secondary's code is loaded: the primary
  // produces it meanwhile (a state file that will be served instead makes it pointless).
  const { snapshotPrefetchFor } = await import('../secondary/snapshot-prefetch.js');
  const prefetch = snapshotPrefetchFor(config);
  const { SecondaryNode } = await import('../secondary/secondary-node.js');
  let node: SecondaryNode;
  try {
    node = await SecondaryNode.start({ ...config, name }, logger, prefetch);
  } catch (error) {
    prefetch?.cancel();
    if (cannotListen(config, error)) return EXIT.badConfig;
    throw error;
  }
  return untilSignal(node, logger);
}

/** Says so when starting failed because the listen address is taken or not ours. */
function cannotListen(config: NodeConfig, error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return false;
  process.stderr.write(`conclave: cannot listen on ${config.listen.host}:${config.listen.port}: ${code}\n`);
  return true;
}

/** Runs until SIGTERM/SIGINT, then stops gracefully; a second signal exits at once. */
function untilSignal(node: { stop(): Promise<void> }, logger: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(EXIT.failure);
      }
      signalled = true;
      logger.info({ signal }, 'stopping');
      node.stop().then(
        () => {
          resolve(EXIT.ok);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          resolve(EXIT.failure);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
