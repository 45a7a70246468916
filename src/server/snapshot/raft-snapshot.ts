import type { KvStore } from '../../kv/index.js';
import type { ConfState, Snapshot } from '../../raft/index.js';
import { openSnapshotStream, SNAPSHOT_WORKERS } from './snapshot-stream.js';

/**
 * Produces the Raft snapshot a lagging follower needs (the kv state with its change log, and the
 * applied point it is at) on a worker thread, from its own read transaction on the database
 * `file`: serializing 100,000 keys on the event loop stalled the leader's heartbeats for longer
 * than an election timeout. Undefined where there are no snapshot workers (running from the
 * TypeScript sources): storage then serializes on its caller's thread.
 */
export function raftSnapshotProducer(kv: KvStore, file: string): (() => Promise<Snapshot>) | undefined {
  if (!SNAPSHOT_WORKERS) return undefined;
  return async () => {
    const stream = await openSnapshotStream(kv, file, true, Promise.resolve(), { appliedPoint: true });
    const chunks: Buffer[] = [];
    for await (const chunk of stream.body as AsyncIterable<Buffer>) chunks.push(chunk);
    await stream.done;
    const applied = stream.applied;
    if (applied === undefined) throw new Error('the snapshot worker sent no applied point');
    return {
      meta: { index: applied.index, term: applied.term, conf: JSON.parse(applied.confJson) as ConfState },
      data: Buffer.concat(chunks),
    };
  };
}
