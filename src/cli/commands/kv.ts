// `conclave kv get|put|del|ls|watch`: the key-value store.

import type { Command } from 'commander';
import { ConclaveError } from '../../client/errors.js';
import type { ConclaveClient, DeleteAnswer, KeyValue, WatchEvent } from '../../client/index.js';
import { integerAtLeast } from '../arguments.js';
import { runWithClient, withClientOptions } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { eventRenderer, oneLine, printAnswer, renderTable } from '../output.js';

/** A change to a key (a watch event that carries a pair). */
type Change = Extract<WatchEvent, { readonly kv: KeyValue }>;

/** Pairs per read when listing. */
const PAGE_SIZE = 1_000;

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('read, write and watch keys');

  const get = withClientOptions(
    kv.command('get').argument('<key>').description('print the value of a key (exit 5 when missing)'),
  );
  get.action((key: string) =>
    runWithClient(get, async ({ client, output }) => {
      const pair = await client.get(key);
      if (pair === undefined) {
        throw new ConclaveError('KEY_NOT_FOUND', `no key ${JSON.stringify(key)}`, { details: { key } });
      }
      await printAnswer(output, pair, () => `${pair.value}\n`);
      return EXIT.ok;
    }),
  );

  const put = withClientOptions(
    kv
      .command('put')
      .argument('<key>')
      .argument('<value>')
      .description('write a key')
      .option('--lease <id>', 'attach the key to this lease', integerAtLeast(1)),
  );
  put.action((key: string, value: string, options: { lease?: number }) =>
    runWithClient(put, async ({ client, output }) => {
      const answer = await client.put(key, value, {
        ...(options.lease === undefined ? {} : { leaseId: options.lease }),
      });
      await printAnswer(output, answer, () => `OK revision ${answer.revision}\n`);
      return EXIT.ok;
    }),
  );

  const del = withClientOptions(
    kv
      .command('del')
      .argument('[key]')
      .description('delete a key, or every key under a prefix')
      .option('--prefix <prefix>', 'delete every key starting with this'),
  );
  del.action((key: string | undefined, options: { prefix?: string }) => {
    const target = keyOrPrefix(del, key, options.prefix);
    return runWithClient(del, async ({ client, output }) => {
      const answer =
        'key' in target ? await client.delete(target.key) : await deletePrefix(client, target.prefix);
      await printAnswer(output, answer, () => `deleted ${answer.deleted}\n`);
      return EXIT.ok;
    });
  });

  const ls = withClientOptions(
    kv
      .command('ls')
      .argument('[prefix]', 'only keys starting with this (default: every key)')
      .description('list keys in key order, every page')
      .option('--limit <n>', 'at most this many keys', integerAtLeast(1))
      .option('--keys-only', 'keys without their values'),
  );
  ls.action((prefix: string | undefined, options: { limit?: number; keysOnly?: boolean }) =>
    runWithClient(ls, async ({ client, output }) => {
      const kvs: KeyValue[] = [];
      const limit = options.limit ?? Number.POSITIVE_INFINITY;
      const pages = client.iterate({
        ...(prefix === undefined ? {} : { prefix }),
        keysOnly: options.keysOnly === true,
        pageSize: Math.min(PAGE_SIZE, limit),
      });
      for await (const pair of pages) {
        if (kvs.length >= limit) break;
        kvs.push(pair);
      }
      await printAnswer(output, { kvs }, () =>
        options.keysOnly === true ? kvs.map((p) => `${oneLine(p.key)}\n`).join('') : kvTable(kvs),
      );
      return EXIT.ok;
    }),
  );

  const watch = withClientOptions(
    kv
      .command('watch')
      .argument('[key]')
      .description('print changes to a key or a prefix until interrupted (SIGINT, SIGTERM)')
      .option('--prefix <prefix>', 'every key starting with this')
      .option('--rev <revision>', 'start at this revision (default: changes from now)', integerAtLeast(1))
      .option('--prev-kv', "add each change's previous pair"),
  );
  watch.action((key: string | undefined, options: { prefix?: string; rev?: number; prevKv?: boolean }) => {
    const target = keyOrPrefix(watch, key, options.prefix);
    return runWithClient(watch, async ({ client, output }) => {
      const stop = new AbortController();
      const onSignal = (): void => {
        stop.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const render = await eventRenderer(output);
        const events = client.watch({
          ...target,
          ...(options.rev === undefined ? {} : { startRevision: options.rev }),
          prevKv: options.prevKv === true,
          signal: stop.signal,
        });
        for await (const event of events) {
          // Changes only (progress notices, if the client yields any, are not printed).
          if ('kv' in event) process.stdout.write(render(event, () => eventLine(event)));
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      return EXIT.ok;
    });
  });
}

/** Every key under `prefix` in one txn (deleteRange), answered like a single delete. */
async function deletePrefix(client: ConclaveClient, prefix: string): Promise<DeleteAnswer> {
  const txn = await client.txn({ success: [{ type: 'deleteRange', prefix }] });
  const first = txn.responses[0];
  return { revision: txn.revision, deleted: first?.type === 'delete' ? first.deleted : 0 };
}

/** Exactly one of the KEY argument and --prefix (a usage error otherwise). */
function keyOrPrefix(
  command: Command,
  key: string | undefined,
  prefix: string | undefined,
): { key: string } | { prefix: string } {
  if ((key === undefined) === (prefix === undefined)) {
    command.error('error: give exactly one of KEY and --prefix', { exitCode: EXIT.badConfig });
  }
  return key === undefined ? { prefix: prefix ?? '' } : { key };
}

function kvTable(kvs: readonly KeyValue[]): string {
  return renderTable(
    ['KEY', 'MOD-REV', 'VERSION', 'LEASE', 'VALUE'],
    kvs.map((p) => [
      oneLine(p.key),
      String(p.modRevision),
      String(p.version),
      p.lease === null ? '-' : String(p.lease),
      oneLine(p.value),
    ]),
  );
}

/** `[rev 12] PUT config/a = 1 (was 0)`, `[rev 13] DELETE config/a`. */
function eventLine(event: Change): string {
  const head = `[rev ${event.revision}] ${event.type.toUpperCase()} ${oneLine(event.kv.key)}`;
  const body = event.type === 'put' ? `${head} = ${oneLine(event.kv.value)}` : head;
  return event.prevKv === undefined ? body : `${body} (was ${oneLine(event.prevKv.value)})`;
}
