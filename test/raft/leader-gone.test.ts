// RaftNode.leaderUnreachable: the transport's hint that the leader's process is gone makes a
// follower campaign early, and a wrong hint changes nothing that matters.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/raft/index.js';
import { TestCluster, text } from './cluster-harness.js';

const ELECTION_TICKS = 10;

/** Ticks only `ids` (the others are down or not to be heard) until one of them leads. */
function ticksUntilLeader(c: TestCluster, ids: readonly NodeId[], max: number): number | undefined {
  for (let t = 1; t <= max; t++) {
    for (const id of ids) c.tick(id);
    c.stabilize();
    if (ids.some((id) => c.node(id).status().role === 'leader')) return t;
  }
  return undefined;
}

function crashedLeaderCluster(): TestCluster {
  const c = new TestCluster(['n1', 'n2', 'n3'], { electionTicks: ELECTION_TICKS });
  c.elect('n1');
  expect(c.node('n1').propose(text('before')).ok).toBe(true);
  c.stabilize();
  // n1's process dies: nothing reaches it and it sends nothing.
  c.isolate('n1');
  return c;
}

describe('raft - a hint that the leader is gone', () => {
  it('without a hint, no follower campaigns before an election timeout', () => {
    const c = crashedLeaderCluster();
    expect(ticksUntilLeader(c, ['n2', 'n3'], ELECTION_TICKS - 1)).toBeUndefined();
  });

  it('with it, the first follower in line is elected at once, and nothing is lost', () => {
    const c = crashedLeaderCluster();
    const term = c.node('n2').status().term;
    for (const id of ['n2', 'n3']) {
      expect(c.node(id).leaderUnreachable('n1')).toBe(true);
      // It forgets its leader at once: raft-health turns false and writes are not sent there.
      expect(c.node(id).status().leader).toBe('');
      expect(c.node(id).status().ticksSinceLeaderContact).toBeGreaterThanOrEqual(ELECTION_TICKS);
    }
    // They take turns by id, so they do not split the vote: n2 goes first, at once, and wins
    // without a single tick.
    expect(c.node('n2').status().role).toBe('preCandidate');
    expect(c.node('n3').status().role).toBe('follower');
    c.stabilize();
    // (n1, cut off and not ticking, still believes it leads: it is dead.)
    const leader = ['n2', 'n3'].find((id) => c.node(id).status().role === 'leader');
    expect(leader).toBe('n2');
    expect(c.node('n2').status().term).toBe(term + 1);
    expect(c.node('n2').propose(text('after')).ok).toBe(true);
    c.stabilize();
    for (const id of ['n2', 'n3']) expect(c.appliedData(id)).toEqual(['before', 'after']);
  });

  it('when the first in line lacks entries, the next one takes over soon after', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { electionTicks: ELECTION_TICKS });
    c.elect('n1');
    // n2 misses the last write; n1 and n3 commit it.
    c.partition('n1', 'n2');
    expect(c.node('n1').propose(text('last')).ok).toBe(true);
    c.stabilize();
    expect(c.appliedData('n3')).toEqual(['last']);
    c.isolate('n1');
    for (const id of ['n2', 'n3']) expect(c.node(id).leaderUnreachable('n1')).toBe(true);
    // n2 asks first and is refused (its log is behind); n3's turn comes 2-3 ticks later.
    const ticks = ticksUntilLeader(c, ['n2', 'n3'], ELECTION_TICKS);
    expect(ticks!).toBeLessThanOrEqual(3);
    expect(c.node('n3').status().role).toBe('leader');
    c.stabilize();
    expect(c.appliedData('n2')).toEqual(['last']);
  });

  it('a wrong hint while the leader lives costs refused pre-votes, not the leadership', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { electionTicks: ELECTION_TICKS });
    c.elect('n1');
    const term = c.node('n1').status().term;
    // n2 is first in line: it asks at once, and again at its next tick; n1 and n3 are in
    // touch with each other, so they do not help unseat n1.
    expect(c.node('n2').leaderUnreachable('n1')).toBe(true);
    expect(c.node('n2').status().role).toBe('preCandidate');
    c.stabilize();
    c.tick('n2');
    c.stabilize();
    expect(c.node('n2').status().role).toBe('preCandidate');
    // n3 is not first: it only forgets n1 until n1's next heartbeat.
    expect(c.node('n3').leaderUnreachable('n1')).toBe(true);
    expect(c.node('n3').status().role).toBe('follower');
    expect(c.node('n3').status().leader).toBe('');
    c.tickAll(2);
    expect(c.leader()).toBe('n1');
    for (const id of ['n1', 'n2', 'n3']) {
      expect(c.node(id).status().term).toBe(term);
      if (id !== 'n1') expect(c.node(id).status().leader).toBe('n1');
    }
    expect(c.node('n1').propose(text('still')).ok).toBe(true);
    c.stabilize();
    expect(c.appliedData('n2')).toEqual(['still']);
    expect(c.appliedData('n3')).toEqual(['still']);
  });

  it('is ignored without pre-vote or check-quorum, which keep a wrong hint harmless', () => {
    for (const options of [{ preVote: false }, { checkQuorum: false }]) {
      const c = new TestCluster(['n1', 'n2', 'n3'], { electionTicks: ELECTION_TICKS, ...options });
      c.elect('n1');
      expect(c.node('n2').leaderUnreachable('n1')).toBe(false);
      expect(c.node('n2').status().leader).toBe('n1');
      expect(c.node('n2').hasReady()).toBe(false);
    }
  });

  it('is ignored unless it names the leader of a follower', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { electionTicks: ELECTION_TICKS });
    c.elect('n1');
    expect(c.node('n2').leaderUnreachable('n3')).toBe(false);
    expect(c.node('n1').leaderUnreachable('n2')).toBe(false);
    expect(c.node('n1').leaderUnreachable('n1')).toBe(false);
    expect(c.node('n2').status().leader).toBe('n1');
    expect(c.node('n1').status().role).toBe('leader');
    expect(c.node('n2').hasReady()).toBe(false);
    expect(c.node('n1').hasReady()).toBe(false);
  });
});
