import { EXIT } from './exit-codes.js';

/**
 * `conclave snapshot restore FILE [server settings...]`: creates a new node's data directory
 * from a backup made by `conclave snapshot save`. (Being written; see docs/OPERATIONS.md.)
 */
export function runRestore(file: string, settings: readonly string[]): Promise<number> {
  process.stderr.write(`conclave: snapshot restore of ${file} with ${settings.length} setting(s): not built yet\n`);
  return Promise.resolve(EXIT.failure);
}
