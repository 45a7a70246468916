import { createSeededRng, MemoryStorage, RaftNode } from '../../src/raft/index.js';
import type { Entry, Message, NodeId, RaftConfigInput, Ready } from '../../src/raft/index.js';

/**
 * A synchronous in-memory cluster for unit and scenario tests: messages queue until deliver()
 * or stabilize() moves them; partitions drop them. Readys are handled in the contract's order.
 */
export class TestCluster {
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  queue: Message[] = [];
  private readonly cut = new Set<string>();

  constructor(
    ids: readonly NodeId[],
    private readonly options: Partial<RaftConfigInput> = {},
    learners: readonly NodeId[] = [],
  ) {
    for (const id of [...ids, ...learners]) this.addNode(id, { voters: ids, learners });
  }

  addNode(
    id: NodeId,
    conf: { voters: readonly NodeId[]; learners: readonly NodeId[] } | undefined,
  ): RaftNode {
    const storage = new MemoryStorage(
      conf === undefined ? undefined : { voters: [...conf.voters], learners: [...conf.learners] },
    );
    this.storages.set(id, storage);
    this.applied.set(id, []);
    return this.start(id);
  }

  /** (Re)starts a node from what its storage holds. */
  start(id: NodeId): RaftNode {
    const storage = this.storages.get(id)!;
    const node = new RaftNode(
      {
        id,
        rng: createSeededRng(id.charCodeAt(id.length - 1)),
        ...this.options,
        applied: storage.snapshot().meta.index,
      },
      storage,
    );
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): RaftNode {
    return this.nodes.get(id)!;
  }

  /** Drops traffic between a and b in both directions (or only a → b when oneWay). */
  partition(a: NodeId, b: NodeId, oneWay = false): void {
    this.cut.add(`${a}>${b}`);
    if (!oneWay) this.cut.add(`${b}>${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.partition(id, other);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Handles every node's Ready; returns whether anything happened. */
  processReadys(): boolean {
    let any = false;
    for (const [id, node] of this.nodes) {
      if (!node.hasReady()) continue;
      any = true;
      this.handle(id, node, node.ready());
    }
    return any;
  }

  /** Delivers queued messages (those sent before the call); returns how many were delivered. */
  deliver(filter: (m: Message) => boolean = () => true): number {
    const batch = this.queue;
    this.queue = [];
    let delivered = 0;
    for (const m of batch) {
      if (!filter(m)) {
        this.queue.push(m);
        continue;
      }
      if (this.cut.has(`${m.from}>${m.to}`)) continue;
      const target = this.nodes.get(m.to);
      if (target === undefined) continue;
      target.step(m);
      delivered++;
    }
    return delivered;
  }

  /** Runs Readys and deliveries until nothing moves. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      const readied = this.processReadys();
      const delivered = this.deliver();
      if (!readied && delivered === 0 && this.queue.length === 0) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.tick();
      this.stabilize();
    }
  }

  /** Ticks `id` until it becomes leader through a normal (pre-)election. */
  elect(id: NodeId): void {
    for (let i = 0; i < 100 && this.node(id).status().role !== 'leader'; i++) {
      this.tick(id);
      this.stabilize();
    }
    if (this.node(id).status().role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  leader(): NodeId | undefined {
    for (const [id, node] of this.nodes) if (node.status().role === 'leader') return id;
    return undefined;
  }

  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === 'normal' && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }

  private handle(id: NodeId, node: RaftNode, rd: Ready): void {
    const storage = this.storages.get(id)!;
    this.queue.push(...rd.messages);
    if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    this.queue.push(...rd.messagesAfterPersist);
    if (rd.snapshot !== undefined) {
      const restored = JSON.parse(new TextDecoder().decode(rd.snapshot.data) || '[]') as string[];
      this.applied.set(
        id,
        restored.map((s) => ({ index: 0, term: 0, type: 'normal', data: new TextEncoder().encode(s) })),
      );
    }
    this.applied.get(id)!.push(...rd.committedEntries);
    node.advance(rd);
  }

  /** Snapshots `id`'s applied state and compacts its log, keeping `trailing` entries. */
  compact(id: NodeId, trailing = 0): void {
    const node = this.node(id);
    const data = new TextEncoder().encode(JSON.stringify(this.appliedData(id)));
    this.storages.get(id)!.createSnapshot(node.status().applied, node.confState(), data, trailing);
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
