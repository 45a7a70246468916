// Restoring a backup (`conclave snapshot save`) as the data directory of a new cluster's node.

import { encodeCommand, KvStore, MEMBERS_PREFIX } from '../kv/index.js';
import { PEER_KEY_PREFIX } from './membership/membership.js';
import { SqliteRaftStorage } from '../storage/index.js';
import type { ResolvedNodeConfig } from './conclave-node.js';

export interface RestoreSummary {
  readonly file: string;
  readonly revision: number;
  readonly keys: number;
  readonly voters: readonly string[];
}

/**
 * Writes a new data directory for `config`'s node holding the backup, with the membership of
 * `initial-cluster`. Restore every founding member from the same backup, then start them as
 * usual: they share the state and elect a leader. Throws StorageError (DATA_DIR_NOT_EMPTY, …)
 * or KvError CORRUPT_SNAPSHOT (bad bytes; nothing is left behind).
 */
export function restoreDataDir(
  config: ResolvedNodeConfig,
  backup: Uint8Array,
  /** Bytes of the backup installed so far, of the total. */
  onProgress?: (read: number, total: number) => void,
): RestoreSummary {
  const voters = config.initialCluster.length > 0 ? config.initialCluster.map((m) => m.name) : [config.name];
  let summary: { revision: number; keys: number } | undefined;
  SqliteRaftStorage.createFromSnapshot(
    {
      dataDir: config.dataDir,
      clusterName: config.clusterName,
      nodeName: config.name,
      conf: { voters, learners: [] },
    },
    (db) => {
      const store = new KvStore(db);
      return {
        apply: (index, data) => store.apply(index, data),
        serialize: () => store.serialize(),
        restore: (data) => {
          store.restore(data, false, onProgress);
        },
        rebase: (index) => {
          // The old cluster's peer addresses would override initial-cluster, and its member
          // records describe nodes that are not running: both go, as deletions at new revisions.
          for (const prefix of [PEER_KEY_PREFIX, MEMBERS_PREFIX]) {
            store.apply(store.lastAppliedIndex() + 1, encodeCommand({ type: 'deleteRange', prefix }));
          }
          store.rebaseRaftIndex(index);
          summary = { revision: store.revision(), keys: store.range({ countOnly: true }).count };
        },
      };
    },
    backup,
  );
  if (summary === undefined) throw new Error('restore: the state machine was not rebased (a bug)');
  return { file: config.dataDir, ...summary, voters };
}
