// `conclave snapshot save FILE` (a full backup, streamed to disk and written atomically) and
// `conclave snapshot restore FILE [server settings...]` (a new node's data directory from such a
// backup).

import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { ConclaveError } from '../../client/errors.js';
import type { SnapshotWritten } from '../../client/index.js';
import { argvAfter } from '../arguments.js';
import { runWithClient, withClientOptions } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { printAnswer, ProgressLine } from '../output.js';

export function registerSnapshot(program: Command): void {
  const snapshot = program.command('snapshot').description('back up and restore');

  const save = withClientOptions(
    snapshot
      .command('save')
      .argument('<file>')
      .description('save a full backup (state and history) to FILE, atomically'),
  );
  save.action((file: string) =>
    runWithClient(save, async ({ client, output }) => {
      const progress = process.stderr.isTTY ? new ProgressLine() : undefined;
      let answer: SnapshotWritten;
      try {
        answer = await writeAtomically(file, (write) =>
          client.snapshotTo(write, {
            history: true,
            onProgress: (received, total) => {
              progress?.draw(received, total);
            },
          }),
        );
      } catch (error) {
        if (!digestMissing(error)) throw error;
        // A proxy on the way dropped the HTTP trailers: ask for the digest up front (the node
        // then holds the snapshot whole until it is sent).
        answer = await writeAtomically(file, (write) =>
          client.snapshotTo(write, { history: true, digest: 'header' }),
        );
      } finally {
        progress?.clear();
      }
      const saved = {
        file,
        revision: answer.revision,
        keyCount: answer.keyCount,
        bytes: answer.size,
        sha256: answer.sha256,
        endpoint: answer.endpoint,
      };
      if (output !== 'table') await printAnswer(output, saved, () => '');
      process.stderr.write(
        `saved ${file}: revision ${saved.revision}, ${saved.keyCount} keys, ${saved.bytes} bytes, sha256 ${saved.sha256}\n`,
      );
      return EXIT.ok;
    }),
  );

  snapshot
    .command('restore')
    .argument('<file>', 'a backup made by `conclave snapshot save`')
    .argument('[settings...]', 'settings of the new node, as for `conclave server` (see its --help)')
    .description("create a new node's data directory from a backup")
    .addHelpText(
      'after',
      '\nRun it once per founding member, with the same FILE and the settings that member will be\n' +
        'started with (--config-file, --name, --data-dir, --initial-cluster, --cluster-name, ...), into\n' +
        'an empty data directory; then start every member with `conclave server` and those settings.\n' +
        'Exit codes: 0 restored, 1 unreadable or invalid backup, 2 bad settings, 3 data directory not empty.\n',
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (file: string) => {
      const { runRestore } = await import('../restore-command.js');
      const raw = argvAfter('snapshot', 'restore');
      process.exitCode = await runRestore(file, raw.slice(raw.indexOf(file) + 1));
    });
}

function digestMissing(error: unknown): boolean {
  return error instanceof ConclaveError && error.details?.digestMissing === true;
}

/**
 * Streams a download into FILE.tmp through `fill` (which gets the writer), flushes it to disk,
 * then renames it over FILE (and flushes the directory); only once `fill` resolved, i.e. the
 * bytes were checked. On failure FILE.tmp is removed and FILE left as it was.
 */
async function writeAtomically<T>(
  file: string,
  fill: (write: (chunk: Buffer) => Promise<void>) => Promise<T>,
): Promise<T> {
  const tmp = `${file}.tmp`;
  let result: T;
  try {
    const handle = await open(tmp, 'w', 0o600);
    try {
      result = await fill(async (chunk) => {
        await handle.write(chunk);
      });
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(file));
  return result;
}

/** Makes the rename durable; not every platform lets a directory be opened, so best effort. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file is complete either way; only the rename might not survive a power loss.
  }
}
