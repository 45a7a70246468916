import { encodeConfChange } from './confchange.js';
import type { ConfState, Entry, HardState } from './types.js';
import { NONE } from './types.js';

/**
 * The log every founding member of a new cluster starts with: one committed conf-change entry
 * per initial member, at term 1. Keeping the initial membership in the log (not only in storage
 * metadata) is what lets a node added later learn the full membership by replication.
 * Every founding member must be bootstrapped with the same ConfState, in the same order.
 */
export function bootstrapEntries(conf: ConfState): { entries: Entry[]; hardState: HardState } {
  const members = [
    ...conf.voters.map((nodeId) => ({ type: 'addVoter' as const, nodeId })),
    ...conf.learners.map((nodeId) => ({ type: 'addLearner' as const, nodeId })),
  ];
  const entries: Entry[] = members.map((change, i) => ({
    index: i + 1,
    term: 1,
    type: 'conf',
    data: encodeConfChange(change),
  }));
  return { entries, hardState: { term: entries.length > 0 ? 1 : 0, vote: NONE, commit: entries.length } };
}
