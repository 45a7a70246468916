// Benchmark: committed proposals per second through 3 in-memory Raft nodes in one process.
// The nodes run the real core; storage is MemoryStorage and the network is a function call, so
// the figure is the core's own cost (encoding, disk and sockets are measured by later benches).
import { arch, cpus, platform } from 'node:os';
import { parseArgs } from 'node:util';
import { createSeededRng, MemoryStorage, RaftNode } from '../raft/index.js';
import type { Message, NodeId } from '../raft/index.js';

interface Options {
  seconds: number;
  batch: number;
  size: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      batch: { type: 'string', default: '512' },
      size: { type: 'string', default: '64' },
    },
  });
  const num = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  return {
    seconds: num('seconds', values.seconds),
    batch: num('batch', values.batch),
    size: num('size', values.size),
  };
}

function run(options: Options): { committed: number; seconds: number } {
  const ids: NodeId[] = ['n1', 'n2', 'n3'];
  const storages = new Map<NodeId, MemoryStorage>();
  const nodes = new Map<NodeId, RaftNode>();
  for (const [i, id] of ids.entries()) {
    const storage = new MemoryStorage({ voters: ids, learners: [] });
    storages.set(id, storage);
    nodes.set(id, new RaftNode({ id, rng: createSeededRng(i + 1), maxUncommittedBytes: 1 << 30 }, storage));
  }
  let inbox: Message[] = [];
  let appliedOnLeader = 0;
  const leader = nodes.get('n1')!;

  const pump = (): void => {
    for (const [id, node] of nodes) {
      if (!node.hasReady()) continue;
      const rd = node.ready();
      const storage = storages.get(id)!;
      for (const m of rd.messages) inbox.push(m);
      if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
      storage.append(rd.entries);
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
      for (const m of rd.messagesAfterPersist) inbox.push(m);
      if (node === leader) appliedOnLeader += rd.committedEntries.length;
      node.advance(rd);
      // Keep memory flat: compact what every node has applied.
      const applied = node.status().applied;
      if (applied - storage.firstIndex() > 100_000) storage.compact(applied - 10_000);
    }
    const batch = inbox;
    inbox = [];
    for (const m of batch) nodes.get(m.to)!.step(m);
  };

  while (leader.status().role !== 'leader') {
    leader.tick();
    pump();
  }
  for (let i = 0; i < 10; i++) pump();

  const payload = new Uint8Array(options.size).fill(7);
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(options.seconds * 1e9));
  const committedAtStart = appliedOnLeader;
  let rounds = 0;
  for (;;) {
    for (let i = 0; i < options.batch; i++) {
      const result = leader.propose(payload);
      if (!result.ok) break;
    }
    pump();
    if (++rounds % 16 === 0) {
      leader.tick();
      if (process.hrtime.bigint() >= deadline) break;
    }
  }
  for (let i = 0; i < 20; i++) pump();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { committed: appliedOnLeader - committedAtStart, seconds };
}

const options = parseOptions();
const { committed, seconds } = run(options);
const perSecond = Math.round(committed / seconds);
console.log(
  `bench:raft — 3 in-memory nodes, one process, ${options.size}-byte proposals, batches of ${options.batch}`,
);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${platform()} ${arch()}, node ${process.version}`,
);
console.log(
  `committed ${committed} proposals in ${seconds.toFixed(2)} s: ${perSecond} proposals/s (target ≥ 200000)`,
);
