import type { ConfChange, ConfChangeType, ConfState, NodeId } from './types.js';

const TYPE_CODES: Record<ConfChangeType, number> = { addVoter: 1, addLearner: 2, removeNode: 3 };
const TYPES_BY_CODE: readonly (ConfChangeType | undefined)[] = [
  undefined,
  'addVoter',
  'addLearner',
  'removeNode',
];
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encoding of a conf-change entry's data: one type byte, then the node id in UTF-8. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const id = encoder.encode(change.nodeId);
  const out = new Uint8Array(1 + id.length);
  out[0] = TYPE_CODES[change.type];
  out.set(id, 1);
  return out;
}

/** Decodes a conf-change entry; undefined for bytes that are not one (such an entry is ignored). */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  const type = TYPES_BY_CODE[data[0] ?? 0];
  if (type === undefined || data.length < 2) return undefined;
  try {
    return { type, nodeId: decoder.decode(data.subarray(1)) };
  } catch {
    return undefined;
  }
}

/** Why `change` cannot be applied to `conf`, or undefined when it can. */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | undefined {
  const isVoter = conf.voters.includes(change.nodeId);
  const isLearner = conf.learners.includes(change.nodeId);
  switch (change.type) {
    case 'addVoter':
      return isVoter ? `${change.nodeId} is already a voter` : undefined;
    case 'addLearner':
      if (isVoter) return `${change.nodeId} is a voter; remove it before adding it back as a learner`;
      return isLearner ? `${change.nodeId} is already a learner` : undefined;
    case 'removeNode':
      if (!isVoter && !isLearner) return `${change.nodeId} is not a member`;
      return isVoter && conf.voters.length === 1 ? 'cannot remove the last voter' : undefined;
  }
}

/** The membership after `change`. Invalid changes leave it unchanged (checked at proposal time). */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  if (confChangeProblem(conf, change) !== undefined) return conf;
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => id !== change.nodeId);
  switch (change.type) {
    case 'addVoter':
      return { voters: [...conf.voters, change.nodeId], learners: without(conf.learners) };
    case 'addLearner':
      return { voters: [...conf.voters], learners: [...conf.learners, change.nodeId] };
    case 'removeNode':
      return { voters: without(conf.voters), learners: without(conf.learners) };
  }
}
