import { describe, expect, it } from 'vitest';
import { TestCluster, text } from './cluster-harness.js';

describe('raft - basics', () => {
  it('a single node elects itself and commits proposals', () => {
    const c = new TestCluster(['n1']);
    c.elect('n1');
    expect(c.node('n1').propose(text('a')).ok).toBe(true);
    c.stabilize();
    expect(c.appliedData('n1')).toEqual(['a']);
  });

  it('three nodes elect one leader and replicate to all', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    expect(c.node('n2').status().leader).toBe('n1');
    for (const v of ['a', 'b', 'c']) expect(c.node('n1').propose(text(v)).ok).toBe(true);
    c.stabilize();
    for (const id of ['n1', 'n2', 'n3']) expect(c.appliedData(id)).toEqual(['a', 'b', 'c']);
  });

  it('a follower refuses proposals with NOT_LEADER naming the leader', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    const r = c.node('n2').propose(text('x'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('NOT_LEADER');
      expect(r.error.leader).toBe('n1');
    }
  });

  it('ReadIndex on leader and follower returns the commit index after a quorum round', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.node('n1').propose(text('a'));
    c.stabilize();
    expect(c.node('n1').readIndex('r1')).toBeUndefined();
    expect(c.node('n2').readIndex('r2')).toBeUndefined();
    const states: string[] = [];
    for (let i = 0; i < 10; i++) {
      for (const id of ['n1', 'n2']) {
        const node = c.node(id);
        if (!node.hasReady()) continue;
        const rd = node.ready();
        for (const rs of rd.readStates) states.push(`${id}:${rs.context}@${rs.index}`);
        c.queue.push(...rd.messages, ...rd.messagesAfterPersist);
        c.storages.get(id)!.append(rd.entries);
        node.advance(rd);
      }
      c.processReadys();
      c.deliver();
    }
    expect(states.sort()).toEqual(['n1:r1@5', 'n2:r2@5']);
  });
});

describe('raft - joining nodes', () => {
  it('a node added later learns the whole membership from the log and never leads alone', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.addNode('n4', undefined);
    expect(c.node('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n4' }).ok).toBe(true);
    c.stabilize();
    c.tickAll(3);
    expect(c.node('n1').proposeConfChange({ type: 'addVoter', nodeId: 'n4' }).ok).toBe(true);
    c.stabilize();
    c.tickAll(3);
    expect(c.node('n4').confState().voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    // n4 alone cannot win: isolated, it never becomes leader however long it waits.
    c.isolate('n4');
    for (let i = 0; i < 100; i++) {
      c.tick('n4');
      c.stabilize();
    }
    expect(c.node('n4').status().role).not.toBe('leader');
  });
});
