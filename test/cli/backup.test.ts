// Backup and restore: a snapshot saved from a running cluster, restored with `conclave snapshot
// restore` into the data directories of a new cluster, gives the same state; bad restores change
// nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import type { ConclaveClient, KeyValue } from '../../src/index.js';
import { ProcessCluster } from '../server/process-cluster.js';
import { runCli } from './helpers.js';

/** `conclave ...args` run to completion (a backup or restore may take a while). */
function conclave(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(args, { timeoutMs: 60_000 });
}

/** The user's keys (member records are rewritten by each cluster's own nodes). */
async function userKeys(client: ConclaveClient): Promise<KeyValue[]> {
  const out: KeyValue[] = [];
  for await (const kv of client.iterate({})) if (!kv.key.startsWith('_conclave/')) out.push(kv);
  return out;
}

describe('snapshot save and restore (real processes)', () => {
  let source: ProcessCluster;
  let target: ProcessCluster;
  let file: string;
  let saved: { revision: number; keys: KeyValue[] };

  beforeAll(async () => {
    source = await ProcessCluster.create(3);
    target = await ProcessCluster.create(3);
    source.startAll();
    await source.waitReady();
    await source.waitRegistered();
    const client = createClient({ endpoints: source.nodes.map((n) => n.url) });
    try {
      for (let i = 0; i < 50; i++) await client.put(`data/${String(i).padStart(3, '0')}`, `value ${i}`);
      await client.put('data/001', 'changed');
      await client.delete('data/002');
      const lease = await client.grantLease(3600, { keepAlive: false });
      await client.put('leased/key', 'with a lease', { leaseId: lease.id });
      await client.txn({
        success: [
          { type: 'put', key: 'txn/a', value: 'A' },
          { type: 'put', key: 'txn/b', value: 'B' },
        ],
      });
      // A membership change at runtime records every peer's address in the state: the restored
      // cluster must not dial the old addresses.
      await client.addMember({ name: 'n9', url: 'http://127.0.0.1:9', learner: true });
      await client.removeMember('n9');
      expect((await client.range({ prefix: '_conclave/peers/', countOnly: true })).count).toBeGreaterThan(0);
      file = join(target.root, 'backup.snap');
      const save = await conclave([
        'snapshot',
        'save',
        file,
        '--endpoints',
        source.nodes.map((n) => n.url).join(','),
      ]);
      expect(save.code, save.stderr).toBe(0);
      const revision = Number(/revision (\d+)/.exec(save.stderr)?.[1]);
      saved = { revision, keys: await userKeys(client) };
    } finally {
      await client.close();
    }
    await source.destroy();
  }, 60_000);

  afterAll(async () => {
    await target.destroy();
  });

  const settingsOf = (name: string): string[] => {
    const n = target.node(name);
    return [
      '--name',
      name,
      '--cluster-name',
      'test',
      '--listen',
      `127.0.0.1:${n.port}`,
      '--initial-cluster',
      target.initialCluster(),
      '--data-dir',
      n.dataDir,
    ];
  };

  it('refuses a corrupt backup and writes nothing', async () => {
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const corrupt = join(target.root, 'corrupt.snap');
    writeFileSync(corrupt, bytes);
    const result = await conclave(['snapshot', 'restore', corrupt, ...settingsOf('n1')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a valid Conclave backup');
    expect(result.stderr).toContain('[CORRUPT_SNAPSHOT]');
    expect(existsSync(join(target.node('n1').dataDir, 'conclave.db'))).toBe(false);
    const missing = await conclave([
      'snapshot',
      'restore',
      join(target.root, 'nope.snap'),
      ...settingsOf('n1'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the backup');
  });

  it('restores into a new cluster with the same state (also on a member that was not restored), which then takes writes', async () => {
    // n3 is a founding member whose restore was forgotten: it starts empty and must be given
    // the state by snapshot, never entries on top of its empty state.
    for (const n of target.nodes.filter((m) => m.name !== 'n3')) {
      const result = await conclave(['snapshot', 'restore', file, ...settingsOf(n.name)]);
      expect(result.stderr).toContain('restoring');
      const restoredAt = Number(/revision (\d+)/.exec(result.stdout)?.[1]);
      // The old cluster's member records and peer addresses are deleted, at new revisions.
      expect(restoredAt).toBeGreaterThan(saved.revision);
      expect(result.code).toBe(0);
    }
    // A second restore into the same data directory is refused.
    const again = await conclave(['snapshot', 'restore', file, ...settingsOf('n1')]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('[DATA_DIR_NOT_EMPTY]');

    target.startAll();
    await target.waitReady();
    const client = createClient({ endpoints: target.nodes.map((n) => n.url) });
    try {
      expect(await userKeys(client)).toEqual(saved.keys);
      expect((await client.range({ prefix: '_conclave/peers/', countOnly: true })).count).toBe(0);
      await client.put('probe/after-start', 'x');
      for (const n of target.nodes) {
        const one = createClient({ endpoints: [n.url], followLeader: false });
        try {
          // Serializable: this node's own state, once it has applied the probe write.
          const deadline = Date.now() + 10_000;
          while ((await one.get('probe/after-start', { consistency: 'serializable' })) === undefined) {
            if (Date.now() > deadline)
              throw new Error(`${n.name} never applied the probe\n${target.dumpLogs()}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          const local = await one.range({ prefix: 'data/', countOnly: true, consistency: 'serializable' });
          expect(local.count, `keys on ${n.name}`).toBe(49);
        } finally {
          await one.close();
        }
      }
      // The change log came along: a watch can replay history from before the backup.
      const history: string[] = [];
      for await (const event of client.watch({ prefix: 'txn/', startRevision: 1 })) {
        history.push(`${event.type} ${event.kv.key}`);
        if (history.length === 2) break;
      }
      expect(history).toEqual(['put txn/a', 'put txn/b']);
      // The lease came along, and the new cluster goes on from the saved revision.
      const leases = await client.listLeases();
      expect(leases.leases.some((l) => l.keys === 1)).toBe(true);
      const put = await client.put('after/restore', 'yes');
      expect(put.revision).toBeGreaterThan(saved.revision);
      expect((await client.get('after/restore'))?.value).toBe('yes');
    } finally {
      await client.close();
    }
  }, 60_000);
});
