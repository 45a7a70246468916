// The transport's "peer gone" hints in the simulator. A real node learns that a peer's process
// died when its connection drops and the address refuses a new one; it then tells its Raft core
// (RaftNode.leaderUnreachable), which campaigns early if that peer was its leader. Here, after a
// crash the surviving nodes are told, each with the seed's probability and after a short delay,
// and false alarms about live nodes are raised now and then: hints must never break safety.
//
// Its decisions come from a random stream of its own, so a seed whose hints are off runs exactly
// as it did before hints existed (the main stream sees no extra draws).

import type { NodeId } from '../raft/index.js';
import type { Cluster } from './cluster.js';
import { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { SimNode } from './sim-node.js';
import type { Trace } from './trace.js';

/** Mixes the seed into the hint stream's own seed (any fixed odd constant would do). */
const STREAM_SALT = 0x6f6e_6521;

export class GoneHints {
  private readonly rand: SimRandom;
  /** Probability that a surviving node is told of a crash (0: hints off for this seed). */
  readonly afterCrash: number;
  /** Mean pause between two false alarms (ms); Infinity: none. */
  readonly falseAlarmGapMs: number;
  private active = false;
  hintsGiven = 0;

  constructor(
    seed: number,
    private readonly sched: Scheduler,
    private readonly trace: Trace,
    private readonly cluster: Cluster,
  ) {
    this.rand = new SimRandom((seed ^ STREAM_SALT) >>> 0);
    this.afterCrash = this.rand.pick([0, 0, 0.5, 0.9, 1]);
    this.falseAlarmGapMs = this.afterCrash === 0 ? Infinity : this.rand.pick([Infinity, 50, 300]);
  }

  start(): void {
    if (this.afterCrash === 0) return;
    this.active = true;
    this.scheduleFalseAlarm();
  }

  stop(): void {
    this.active = false;
  }

  /** `crashed` just went down: tell the nodes still up, as their transports would. */
  crashed(crashed: SimNode): void {
    if (!this.active) return;
    for (const node of this.cluster.up()) {
      if (node === crashed || !this.rand.chance(this.afterCrash)) continue;
      this.sched.after(this.rand.range(0.1, 5), () => {
        // The peer may be back already: a refused connection was true only for a moment.
        if (this.active && node.up && !crashed.up) this.give(node, crashed.id, 'crashed');
      });
    }
  }

  private scheduleFalseAlarm(): void {
    if (!Number.isFinite(this.falseAlarmGapMs)) return;
    this.sched.after(this.rand.exp(this.falseAlarmGapMs), () => {
      if (!this.active) return;
      const up = this.cluster.up();
      if (up.length >= 2) {
        const node = this.rand.pick(up);
        const about = this.rand.pick(up.filter((n) => n !== node));
        this.give(node, about.id, 'false alarm: it is up');
      }
      this.scheduleFalseAlarm();
    });
  }

  private give(node: SimNode, about: NodeId, why: string): void {
    this.hintsGiven++;
    this.trace.add(node.id, 'fault', `told ${about} is gone (${why})`);
    node.peerGone(about);
  }
}
