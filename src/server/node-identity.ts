import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const NAME_FILE = 'node-name';

/**
 * The node's name and data dir. A configured name wins; without one, the name kept in the data
 * dir is used, or a new one is generated and kept there so the node keeps it across restarts.
 */
export function resolveIdentity(
  configured: { name: string | undefined; dataDir: string | undefined },
  cwd: string,
): { name: string; dataDir: string } {
  if (configured.name !== undefined) {
    return {
      name: configured.name,
      dataDir: configured.dataDir ?? resolve(cwd, 'conclave-data', configured.name),
    };
  }
  const dataDir = configured.dataDir ?? resolve(cwd, 'conclave-data', 'default');
  const file = join(dataDir, NAME_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length > 0) return { name: kept, dataDir };
  } catch {
    // No name kept yet: generate one below.
  }
  const name = `node-${randomBytes(4).toString('hex')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${name}\n`);
  return { name, dataDir };
}
