// The set of simulated servers, by id (n1, n2, ...; ids are never reused), and views of it.

import { MemoryStorage } from '../raft/index.js';
import type { ConfState, Message, NodeId } from '../raft/index.js';
import type { SimRandom } from './random.js';
import { SimNode } from './sim-node.js';
import type { NodeEnv } from './sim-node.js';
import type { ClusterView } from './workload.js';

export class Cluster implements ClusterView {
  readonly nodes = new Map<NodeId, SimNode>();
  /** The membership the cluster was bootstrapped with (log entries 1..n, see bootstrapEntries). */
  founding: ConfState = { voters: [], learners: [] };
  private lastId = 0;

  constructor(
    private readonly env: NodeEnv,
    private readonly rand: SimRandom,
    /** Base tick interval (ms) and the largest relative drift of a node's clock from it. */
    private readonly tickMs: number,
    private readonly drift: number,
  ) {}

  /** Creates `n` voters n1..nN, bootstrapped with the same membership, and starts them. */
  bootstrap(n: number): void {
    const voters: NodeId[] = [];
    for (let i = 1; i <= n; i++) voters.push(`n${i}`);
    this.lastId = n;
    this.founding = { voters, learners: [] };
    for (const id of voters) this.create(id, new MemoryStorage({ voters, learners: [] })).start();
  }

  /** A brand-new server with an empty disk (it learns everything from the leader). */
  createJoiner(): SimNode {
    this.lastId++;
    const node = this.create(`n${this.lastId}`, new MemoryStorage());
    node.start();
    return node;
  }

  node(id: NodeId): SimNode | undefined {
    return this.nodes.get(id);
  }

  routable(): NodeId[] {
    const ids: NodeId[] = [];
    for (const [id, n] of this.nodes) if (n.state !== 'stopped') ids.push(id);
    return ids;
  }

  up(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.up) out.push(n);
    return out;
  }

  /** The running leader of the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.up && n.role === 'leader' && (best === undefined || n.term > best.term)) best = n;
    }
    return best;
  }

  /** The membership as the leader sees it, else as the most advanced running node applied it. */
  membership(): ConfState {
    const leader = this.leader();
    if (leader?.raft !== undefined) return leader.raft.confState();
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.state !== 'stopped' && (best === undefined || n.sm.applied > best.sm.applied)) best = n;
    }
    return best?.appliedConf ?? { voters: [], learners: [] };
  }

  deliver(m: Message): void {
    const node = this.nodes.get(m.to);
    if (node === undefined) return;
    node.receive(m);
  }

  private create(id: NodeId, storage: MemoryStorage): SimNode {
    const tick = this.tickMs * (1 + this.rand.range(-this.drift, this.drift));
    const node = new SimNode(id, storage, this.env, tick);
    this.nodes.set(id, node);
    return node;
  }
}
