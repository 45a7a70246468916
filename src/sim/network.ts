// The simulated network: every message gets its own latency (so messages overtake each other),
// and may be lost or duplicated. Links can be cut in one direction or both; a cut link drops
// what is sent on it and what arrives on it while it is cut.

import type { Message, NodeId } from '../raft/types.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

export interface LinkParams {
  /** Every message takes at least this long (ms). */
  readonly latencyMin: number;
  /** Mean of the exponentially distributed extra delay (ms): the spread that reorders. */
  readonly latencyMean: number;
  /** Probability that a message is slow (an extra 10-50 ms), overtaken by many later ones. */
  readonly slowChance: number;
  /** Probability that a message is lost. */
  readonly loss: number;
  /** Probability that a message is delivered twice. */
  readonly duplicate: number;
}

export const CALM_LINKS: LinkParams = {
  latencyMin: 0.5,
  latencyMean: 1.5,
  slowChance: 0.01,
  loss: 0,
  duplicate: 0,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

export class Network {
  params: LinkParams = CALM_LINKS;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** Sees every message that goes on the wire (the fault injector reacts to some). */
  observer: ((m: Message) => void) | undefined;
  /** from -> destinations it cannot reach. */
  private readonly cut = new Map<NodeId, Set<NodeId>>();

  constructor(
    private readonly sched: Scheduler,
    private readonly rand: SimRandom,
    private readonly trace: Trace,
    /** Hands a message to its destination (which may be down: the receiver decides). */
    private readonly deliver: (m: Message) => void,
  ) {}

  send(m: Message): void {
    this.stats.sent++;
    if (this.isCut(m.from, m.to)) {
      this.drop(m, 'link cut');
      return;
    }
    const p = this.params;
    if (p.loss > 0 && this.rand.chance(p.loss)) {
      this.drop(m, 'lost');
      return;
    }
    this.trace.add(m.from, 'send', '', m);
    this.observer?.(m);
    this.sched.after(this.latency(), () => {
      this.arrive(m);
    });
    if (p.duplicate > 0 && this.rand.chance(p.duplicate)) {
      this.stats.duplicated++;
      this.sched.after(this.latency(), () => {
        this.arrive(m);
      });
    }
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.get(from)?.has(to) === true;
  }

  /** Cuts the link from `from` to `to` (one way). */
  block(from: NodeId, to: NodeId): void {
    let set = this.cut.get(from);
    if (set === undefined) {
      set = new Set();
      this.cut.set(from, set);
    }
    set.add(to);
  }

  /** Cuts every link between the two groups, both ways. */
  split(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  hasCuts(): boolean {
    for (const set of this.cut.values()) if (set.size > 0) return true;
    return false;
  }

  private latency(): number {
    const p = this.params;
    let ms = p.latencyMin + this.rand.exp(p.latencyMean);
    if (p.slowChance > 0 && this.rand.chance(p.slowChance)) ms += this.rand.range(10, 50);
    return ms;
  }

  private arrive(m: Message): void {
    if (this.isCut(m.from, m.to)) {
      this.drop(m, 'link cut in flight');
      return;
    }
    this.stats.delivered++;
    this.deliver(m);
  }

  drop(m: Message, reason: string): void {
    this.stats.dropped++;
    this.trace.add(m.from, 'drop', reason, m);
  }
}
