import { readFileSync, statSync } from 'node:fs';
import { ConfigError, formatConfigError, loadNodeConfig } from '../config/index.js';
import { KvError } from '../kv/index.js';
import { resolveIdentity } from '../server/node-identity.js';
import { restoreDataDir } from '../server/restore.js';
import { StorageError } from '../storage/index.js';
import { EXIT } from './exit-codes.js';
import { ProgressLine } from './output.js';

/**
 * `conclave snapshot restore FILE [server settings...]`: offline, like `etcdutl snapshot
 * restore`. Exit 0 restored; 2 bad settings; 3 the data directory has a database already;
 * 1 the file is unreadable or not a valid backup (nothing is written then).
 */
export function runRestore(file: string, settings: readonly string[]): Promise<number> {
  return Promise.resolve(restore(file, settings));
}

function restore(file: string, settings: readonly string[]): number {
  let config;
  try {
    config = loadNodeConfig({ argv: [...settings], env: process.env, cwd: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${formatConfigError(error)}\n`);
      return EXIT.badConfig;
    }
    throw error;
  }
  if (config.role !== 'primary') {
    process.stderr.write(
      'conclave: only a primary has a data directory to restore into (role is secondary)\n',
    );
    return EXIT.badConfig;
  }
  let backup: Buffer;
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    backup = readFileSync(file);
  } catch (error) {
    process.stderr.write(`conclave: cannot read the backup ${file}: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
  const identity = resolveIdentity(config, process.cwd());
  process.stderr.write(`restoring ${file} (${backup.length} bytes) into ${identity.dataDir} …\n`);
  const progress = process.stderr.isTTY ? new ProgressLine() : undefined;
  try {
    const summary = restoreDataDir({ ...config, ...identity }, backup, (read, total) => {
      progress?.draw(read, total);
    });
    progress?.draw(backup.length, backup.length);
    progress?.clear();
    process.stdout.write(
      `restored ${file} into ${summary.file}: node ${identity.name} of cluster ${config.clusterName}, ` +
        `revision ${summary.revision}, ${summary.keys} keys, voters ${summary.voters.join(',')}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof StorageError) {
      process.stderr.write(`conclave: cannot restore: ${error.message} [${error.code}]\n`);
      return EXIT.dataRefused;
    }
    if (error instanceof KvError) {
      process.stderr.write(
        `conclave: ${file} is not a valid Conclave backup: ${error.message} [${error.code}]\n`,
      );
      return EXIT.failure;
    }
    throw error;
  }
}
