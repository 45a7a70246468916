// The operator that changes the cluster's membership during the fault phase: adds new servers
// as learners, promotes learners to voters once they have caught up, removes servers (the
// leader too). Voters stay within [minVoters, maxVoters]. A server whose removal is committed
// is shut down a little later (it may need a moment to learn of it).

import type { ConfState, NodeId } from '../raft/index.js';
import type { Cluster } from './cluster.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { SimNode } from './sim-node.js';
import type { Trace } from './trace.js';

export interface MembershipParams {
  readonly minVoters: number;
  readonly maxVoters: number;
  /** At most this many members (voters + learners). */
  readonly maxMembers: number;
}

export class MembershipOperator {
  private readonly everMember = new Set<NodeId>();
  private readonly stopping = new Set<NodeId>();
  /** Highest log index whose membership has been seen applied: the committed membership. */
  private latestConfIndex = 0;
  private latest: ConfState;
  /** Removed servers still running, with the index of their removal and the voters after it. */
  private readonly removals: { id: NodeId; index: number; voters: readonly NodeId[] }[] = [];
  /** A server created for an addLearner that has not been seen applied yet. */
  private joiner: SimNode | undefined;
  changes = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rand: SimRandom,
    private readonly trace: Trace,
    private readonly cluster: Cluster,
    private readonly params: MembershipParams,
    /** The founding membership and the index of its last bootstrap entry. */
    founding: ConfState,
    bootstrapIndex: number,
  ) {
    this.latest = founding;
    this.latestConfIndex = bootstrapIndex;
    for (const id of [...this.latest.voters, ...this.latest.learners]) this.everMember.add(id);
  }

  /** Adds a new server as a learner (reusing a joiner whose earlier add did not make it). */
  addNode(): void {
    const leader = this.cluster.leader();
    if (leader?.raft === undefined) return;
    const conf = leader.raft.confState();
    if (conf.voters.length + conf.learners.length >= this.params.maxMembers) return;
    if (this.joiner?.state === 'stopped') this.joiner = undefined;
    const joiner = this.joiner ?? this.cluster.createJoiner();
    this.joiner = joiner;
    this.propose(leader, 'addLearner', joiner.id);
  }

  /** Promotes one learner whose state machine is close to the leader's commit index. */
  promoteCaughtUp(): void {
    const leader = this.cluster.leader();
    const raft = leader?.raft;
    if (leader === undefined || raft === undefined) return;
    const conf = raft.confState();
    if (conf.voters.length >= this.params.maxVoters) return;
    const commit = raft.status().commit;
    for (const id of conf.learners) {
      const node = this.cluster.node(id);
      if (node?.up === true && node.sm.applied >= commit - 2) {
        this.propose(leader, 'addVoter', id);
        return;
      }
    }
  }

  /** Removes a random member, or the leader itself. */
  removeNode(leaderItself: boolean): void {
    const leader = this.cluster.leader();
    if (leader?.raft === undefined) return;
    const conf = leader.raft.confState();
    const candidates: NodeId[] = [...conf.learners];
    if (conf.voters.length > this.params.minVoters) candidates.push(...conf.voters);
    if (candidates.length === 0) return;
    const target = leaderItself && candidates.includes(leader.id) ? leader.id : this.rand.pick(candidates);
    this.propose(leader, 'removeNode', target);
  }

  /** `node` applied membership changes up to its applied index; `conf` is the result. */
  onConfApplied(node: SimNode, conf: ConfState): void {
    const index = node.sm.applied;
    if (index > this.latestConfIndex) {
      // A newer committed membership (not a replay of an older one by a restarted node).
      this.latestConfIndex = index;
      this.latest = conf;
      const members = new Set([...conf.voters, ...conf.learners]);
      for (const id of members) this.everMember.add(id);
      if (this.joiner !== undefined && members.has(this.joiner.id)) this.joiner = undefined;
      for (const id of this.everMember) {
        if (members.has(id) || this.stopping.has(id)) continue;
        this.stopping.add(id);
        this.removals.push({ id, index, voters: conf.voters });
      }
    }
    this.stopRemoved();
  }

  /**
   * Shuts down removed servers once every remaining voter has applied their removal. Stopping
   * one earlier can wedge the cluster for good: membership takes effect when applied, so a
   * voter that has the removal entry but has not applied it still counts the removed server in
   * its quorum (e.g. a leader removing itself from a two-voter cluster, then shut down before
   * the other voter learned that the removal committed).
   */
  stopRemoved(): void {
    for (let i = 0; i < this.removals.length;) {
      const r = this.removals[i]!;
      const done = r.voters.every((id) => {
        const n = this.cluster.node(id);
        return n === undefined || n.state === 'stopped' || n.sm.applied >= r.index;
      });
      if (!done) {
        i++;
        continue;
      }
      this.removals.splice(i, 1);
      this.sched.after(this.rand.range(1, 50), () => {
        this.cluster
          .node(r.id)
          ?.stop(`removed from the cluster (membership at ${r.index} applied by every voter)`);
      });
    }
  }

  private propose(leader: SimNode, type: 'addLearner' | 'addVoter' | 'removeNode', nodeId: NodeId): void {
    const res = leader.proposeConfChange({ type, nodeId });
    const outcome = res.ok ? `proposed at ${res.index}/t${res.term}` : `refused: ${res.error.code}`;
    if (res.ok) this.changes++;
    this.trace.add(leader.id, 'conf', `${type} ${nodeId} ${outcome}`);
  }
}
