import { pino } from 'pino';
import {
  configHelp,
  ConfigError,
  formatConfigError,
  helpRequested,
  loadNodeConfig,
} from '../config/index.js';
import { ConclaveNode } from '../server/conclave-node.js';
import { resolveIdentity } from '../server/node-identity.js';
import { StorageError } from '../storage/index.js';
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
  const identity = resolveIdentity(config, process.cwd());
  const logger = pino({ level: config.logLevel, base: { node: identity.name } });
  let node: ConclaveNode;
  try {
    node = await ConclaveNode.start({ ...config, ...identity }, logger);
  } catch (error) {
    if (error instanceof StorageError) {
      process.stderr.write(`conclave: refusing to start: ${error.message} [${error.code}]\n`);
      return EXIT.dataRefused;
    }
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(
        `conclave: cannot listen on ${config.listen.host}:${config.listen.port}: ${code}\n`,
      );
      return EXIT.badConfig;
    }
    throw error;
  }
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
