// The fault injector ("nemesis"). During the fault phase it strikes at random intervals with a
// mix of faults drawn per seed (a profile), each undone after a while: crashes and restarts,
// partitions (isolate a node, majority/minority split, one cut link, one-way drops), loss and
// latency bursts, clock skew, leadership transfers and membership changes. It also reacts to
// elections, crashing or isolating a fresh leader, which is where most Raft bugs live. heal()
// ends the fault phase: every link is restored, every server restarted, the network calm.

import type { Message, NodeId } from '../raft/index.js';
import type { Cluster } from './cluster.js';
import type { GoneHints } from './gone-hints.js';
import type { MembershipOperator } from './membership.js';
import type { LinkParams, Network } from './network.js';
import { CALM_LINKS } from './network.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { SimNode } from './sim-node.js';
import type { Trace } from './trace.js';

export type FaultKind =
  | 'crash'
  | 'crashLeader'
  | 'bounce'
  | 'isolate'
  | 'isolateLeader'
  | 'split'
  | 'cutLink'
  | 'oneWay'
  | 'lossBurst'
  | 'slowNet'
  | 'clockSkew'
  | 'transfer'
  | 'addNode'
  | 'removeNode'
  | 'removeLeader';

export type ElectionStrike = 'none' | 'crash' | 'isolate' | 'isolateAtOnce' | 'atCommit';

export interface FaultProfile {
  readonly style: string;
  /** Mean pause between two faults (ms). */
  readonly gapMs: number;
  readonly weights: Readonly<Record<FaultKind, number>>;
  /**
   * What happens to a newly elected leader, as weights: nothing; crash it or isolate it within
   * 0-40 ms; isolate it at once (before its first appends arrive: a leader whose entries never
   * left it is the setup of the paper's Figure 8); or crash/isolate it just after its first or
   * second commit, while it is still bringing followers up to date.
   */
  readonly onElection: Readonly<Record<ElectionStrike, number>>;
  /** Probability of crashing and quickly restarting a server right after it grants a vote. */
  readonly bounceVoter: number;
  /** How long a crashed server stays down (ms), unless it is a quick bounce. */
  readonly downMs: readonly [number, number];
  /** How long a partition lasts (ms). */
  readonly partitionMs: readonly [number, number];
  /** The network between faults. */
  readonly links: LinkParams;
}

/**
 * Draws a fault profile. A seed first picks a style, which sets the mix, then every intensity is
 * jittered, so seeds range from calm to vicious:
 * - mixed: a bit of everything;
 * - leaders: hunts leaders (crashes and isolates new leaders, bounces nodes), which is what
 *   exposes bugs around elections, commitment of earlier terms and vote persistence;
 * - partitions: splits, cut links and one-way drops, with lossy links;
 * - churn: membership changes and leadership transfers under crashes.
 */
export function randomProfile(rand: SimRandom, membership: boolean): FaultProfile {
  const style = rand.weighted({ mixed: 3, leaders: 4, partitions: 2, churn: membership ? 2 : 0 });
  const w = (base: number): number => base * rand.range(0.2, 1.8);
  const weights: Record<FaultKind, number> = {
    crash: w(2),
    crashLeader: w(2),
    bounce: w(2),
    isolate: w(2),
    isolateLeader: w(2),
    split: w(2),
    cutLink: w(1),
    oneWay: w(1),
    lossBurst: w(1),
    slowNet: w(0.5),
    clockSkew: w(1),
    transfer: w(1),
    addNode: membership ? w(3) : 0,
    removeNode: membership ? w(2) : 0,
    removeLeader: membership ? w(0.5) : 0,
  };
  let onElection: Record<ElectionStrike, number> = {
    none: 1,
    crash: rand.pick([0, 0.05, 0.2]),
    isolate: rand.pick([0, 0.05, 0.2]),
    isolateAtOnce: rand.pick([0, 0.05, 0.1]),
    atCommit: rand.pick([0, 0.05, 0.1]),
  };
  let bounceVoter = rand.pick([0, 0, 0.05]);
  let partitionMs: [number, number] = rand.chance(0.5) ? [30, 250] : [100, 1000];
  let downMs: [number, number] = rand.chance(0.5) ? [5, 150] : [50, 800];
  switch (style) {
    case 'leaders':
      weights.crashLeader *= 3;
      weights.isolateLeader *= 3;
      weights.bounce *= 3;
      onElection = {
        none: rand.range(0.2, 0.6),
        crash: rand.range(0.1, 0.4),
        isolate: rand.range(0.1, 0.3),
        isolateAtOnce: rand.range(0.2, 0.6),
        atCommit: rand.range(0.2, 0.6),
      };
      bounceVoter = rand.pick([0.1, 0.3]);
      partitionMs = [40, 300];
      downMs = [2, 80];
      break;
    case 'partitions':
      weights.split *= 3;
      weights.cutLink *= 3;
      weights.oneWay *= 3;
      weights.lossBurst *= 2;
      break;
    case 'churn':
      weights.addNode *= 3;
      weights.removeNode *= 3;
      weights.removeLeader *= 3;
      weights.transfer *= 3;
      break;
    case 'mixed':
      break;
  }
  return {
    style,
    gapMs: rand.range(30, 200),
    weights,
    onElection,
    bounceVoter,
    downMs,
    partitionMs,
    links: {
      latencyMin: rand.range(0.2, 1),
      latencyMean: rand.range(0.3, 3),
      slowChance: rand.pick([0, 0.01, 0.05]),
      loss: rand.pick([0, 0, 0.01, 0.05, 0.15]),
      duplicate: rand.pick([0, 0.01, 0.05]),
    },
  };
}

export class Nemesis {
  private active = false;
  /** Bumped by every new partition (and heal): an older partition's undo then does nothing. */
  private partitionGen = 0;
  /** New leaders to crash at their n-th commit: id -> (term, commits left). */
  private readonly strikeAtCommit = new Map<NodeId, { term: number; left: number; isolate: boolean }>();
  private linksGen = 0;
  faults = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rand: SimRandom,
    private readonly trace: Trace,
    private readonly net: Network,
    private readonly cluster: Cluster,
    private readonly membership: MembershipOperator | undefined,
    private readonly profile: FaultProfile,
    private readonly hints: GoneHints,
  ) {}

  start(): void {
    this.active = true;
    this.hints.start();
    this.net.params = this.profile.links;
    this.net.observer = (m) => {
      this.onWire(m);
    };
    this.scheduleNext();
  }

  /** Ends the fault phase. */
  heal(): void {
    this.active = false;
    this.hints.stop();
    this.net.observer = undefined;
    this.partitionGen++;
    this.linksGen++;
    this.net.heal();
    this.net.params = CALM_LINKS;
    for (const node of this.cluster.nodes.values()) {
      node.tickMs = node.baseTickMs;
      if (node.state === 'down') node.start();
    }
    this.trace.add('-', 'fault', 'HEAL: all links restored, all servers up, no loss');
  }

  /** Cuts every link for good (a cluster that can never recover, to test the liveness check). */
  cutEverything(): void {
    this.active = false;
    this.hints.stop();
    this.net.observer = undefined;
    this.partitionGen++;
    const ids = [...this.cluster.nodes.keys()];
    for (const a of ids) for (const b of ids) if (a !== b) this.net.block(a, b);
    this.trace.add('-', 'fault', 'every link cut for good');
  }

  onLeader(node: SimNode, term: number): void {
    if (!this.active) return;
    const rand = this.rand;
    const strike = rand.weighted(this.profile.onElection);
    const still = (): boolean => this.active && node.role === 'leader' && node.term === term;
    const why = `new leader of term ${term}`;
    switch (strike) {
      case 'none':
        return;
      case 'crash':
        this.sched.after(rand.range(0, 40), () => {
          if (still()) this.crash(node, why);
        });
        return;
      case 'isolate':
      case 'isolateAtOnce':
        // Cut off at once, it stays away long: until the next partition replaces this one.
        this.sched.after(strike === 'isolate' ? rand.range(0, 40) : rand.range(0, 1), () => {
          if (still())
            this.isolate(node.id, why, strike === 'isolate' ? this.profile.partitionMs : [200, 800]);
        });
        return;
      case 'atCommit':
        this.strikeAtCommit.set(node.id, { term, left: rand.chance(0.7) ? 1 : 2, isolate: rand.chance(0.7) });
        return;
    }
  }

  onLeaderCommit(node: SimNode): void {
    const plan = this.strikeAtCommit.get(node.id);
    if (plan === undefined || !this.active) return;
    if (plan.term !== node.term) {
      this.strikeAtCommit.delete(node.id);
      return;
    }
    if (--plan.left > 0) return;
    this.strikeAtCommit.delete(node.id);
    // Within a round trip, so that the followers are still mid catch-up. (An isolated leader
    // still applies what it committed; a crashed one may not get to.)
    this.sched.after(this.rand.range(0, 3), () => {
      if (!this.active || node.role !== 'leader' || node.term !== plan.term) return;
      const why = `leader of term ${plan.term}, just after committing`;
      // Isolating it also heals the previous partition: leadership flaps between the sides.
      if (plan.isolate) this.isolate(node.id, why);
      else this.crash(node, why);
    });
  }

  /** Crash-restarts a voter right after it granted a vote (a vote must survive a restart). */
  private onWire(m: Message): void {
    if (m.type !== 'voteResponse' || m.reject || !this.active) return;
    if (!this.rand.chance(this.profile.bounceVoter)) return;
    const node = this.cluster.node(m.from);
    if (node?.up !== true) return;
    this.sched.after(this.rand.range(0, 2), () => {
      if (!this.active || !node.up) return;
      node.crash();
      this.trace.add(node.id, 'fault', `bounce right after voting in term ${m.term}`);
      this.hints.crashed(node);
      this.sched.after(this.rand.range(0.5, 15), () => {
        if (node.state === 'down') node.start();
      });
    });
  }

  private scheduleNext(): void {
    this.sched.after(this.rand.exp(this.profile.gapMs), () => {
      if (!this.active) return;
      this.strike();
      this.membership?.promoteCaughtUp();
      this.membership?.stopRemoved();
      this.scheduleNext();
    });
  }

  private strike(): void {
    const kind = this.rand.weighted(this.profile.weights);
    const rand = this.rand;
    const running = this.cluster.up();
    const ids = this.cluster.routable();
    const leader = this.cluster.leader();
    this.faults++;
    switch (kind) {
      case 'crash':
        if (running.length > 0) this.crash(rand.pick(running), 'random');
        return;
      case 'crashLeader':
        if (leader !== undefined) this.crash(leader, 'leader');
        return;
      case 'bounce': {
        if (running.length === 0) return;
        const node = rand.pick(running);
        node.crash();
        this.trace.add(node.id, 'fault', 'bounce: crash and quick restart');
        this.hints.crashed(node);
        this.sched.after(rand.range(1, 30), () => {
          if (node.state === 'down') node.start();
        });
        return;
      }
      case 'isolate':
        if (ids.length > 1) this.isolate(rand.pick(ids), 'random');
        return;
      case 'isolateLeader':
        if (leader !== undefined) this.isolate(leader.id, 'leader');
        return;
      case 'split': {
        if (ids.length < 3) return;
        const shuffled = this.shuffle(ids);
        const minority = Math.floor((shuffled.length - 1) / 2) || 1;
        // Put the leader on the minority side half the time: the majority elects a new one.
        if (leader !== undefined && rand.chance(0.5)) {
          shuffled.splice(shuffled.indexOf(leader.id), 1);
          shuffled.unshift(leader.id);
        }
        const a = shuffled.slice(0, minority);
        const b = shuffled.slice(minority);
        this.partition(`split {${a.join(',')}} | {${b.join(',')}}`, () => {
          this.net.split(a, b);
        });
        return;
      }
      case 'cutLink': {
        if (ids.length < 2) return;
        const [a, b] = this.shuffle(ids) as [NodeId, NodeId];
        this.partition(`cut link ${a} <-> ${b}`, () => {
          this.net.split([a], [b]);
        });
        return;
      }
      case 'oneWay': {
        if (ids.length < 2) return;
        const [a, b] = this.shuffle(ids) as [NodeId, NodeId];
        const from = leader !== undefined && rand.chance(0.5) ? leader.id : a;
        const to = from === a ? b : a;
        this.partition(`one-way: ${from} -> ${to} dropped`, () => {
          this.net.block(from, to);
        });
        return;
      }
      case 'lossBurst':
        this.linkBurst(`loss burst`, { ...this.profile.links, loss: rand.range(0.2, 0.7) });
        return;
      case 'slowNet':
        this.linkBurst(`slow network`, {
          ...this.profile.links,
          latencyMean: this.profile.links.latencyMean * rand.range(3, 10),
          slowChance: 0.2,
        });
        return;
      case 'clockSkew': {
        if (running.length === 0) return;
        const node = leader !== undefined && rand.chance(0.5) ? leader : rand.pick(running);
        const factor = rand.chance(0.5) ? rand.range(1.3, 2) : rand.range(0.5, 0.8);
        node.tickMs = node.baseTickMs * factor;
        this.trace.add(node.id, 'fault', `clock skew: ticks every ${node.tickMs.toFixed(2)}ms`);
        this.sched.after(rand.range(...this.profile.partitionMs), () => {
          node.tickMs = node.baseTickMs;
        });
        return;
      }
      case 'transfer': {
        if (leader?.raft === undefined) return;
        const others = leader.raft.confState().voters.filter((id) => id !== leader.id);
        if (others.length === 0) return;
        const to = rand.pick(others);
        const err = leader.transferLeadership(to);
        this.trace.add(
          leader.id,
          'fault',
          `transfer leadership to ${to}${err === undefined ? '' : `: ${err.code}`}`,
        );
        return;
      }
      case 'addNode':
        this.membership?.addNode();
        return;
      case 'removeNode':
        this.membership?.removeNode(false);
        return;
      case 'removeLeader':
        this.membership?.removeNode(true);
        return;
    }
  }

  private crash(node: SimNode, why: string): void {
    if (!node.up) return;
    node.crash();
    const down = this.rand.range(...this.profile.downMs);
    this.trace.add(node.id, 'fault', `crash (${why}), restart in ${down.toFixed(1)}ms`);
    this.hints.crashed(node);
    this.sched.after(down, () => {
      if (node.state === 'down') node.start();
    });
  }

  private isolate(id: NodeId, why: string, ms: readonly [number, number] = this.profile.partitionMs): void {
    const others = this.cluster.routable().filter((x) => x !== id);
    this.partition(
      `isolate ${id} (${why})`,
      () => {
        this.net.split([id], others);
      },
      ms,
    );
  }

  /** Replaces any current partition with a new one, healed after a random duration. */
  private partition(
    what: string,
    cut: () => void,
    range: readonly [number, number] = this.profile.partitionMs,
  ): void {
    const gen = ++this.partitionGen;
    this.net.heal();
    cut();
    const ms = this.rand.range(...range);
    this.trace.add('-', 'fault', `${what} for ${ms.toFixed(1)}ms`);
    this.sched.after(ms, () => {
      if (gen !== this.partitionGen) return;
      this.net.heal();
      this.trace.add('-', 'fault', `partition healed (${what})`);
    });
  }

  private linkBurst(what: string, params: LinkParams): void {
    const gen = ++this.linksGen;
    this.net.params = params;
    const ms = this.rand.range(...this.profile.partitionMs);
    this.trace.add('-', 'fault', `${what} for ${ms.toFixed(1)}ms`);
    this.sched.after(ms, () => {
      if (gen !== this.linksGen || !this.active) return;
      this.net.params = this.profile.links;
    });
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rand.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
