// Global safety checks over the whole run (across crashes and restarts). Each method is called
// at the moment the simulator observes the relevant fact and throws a SimViolation at once.
//
// Properties (Raft paper, Figure 3):
// - Election safety: at most one leader per term.
// - Log matching: an entry is identified by (index, term). Every log holding (i, t) holds the
//   same entry there, preceded by the same term at i - 1. By induction down the log, two logs
//   holding (i, t) are then identical up to i. Checked incrementally when an entry enters a log.
// - Leader completeness: an entry applied anywhere while the applying node was in term A was
//   committed in some term C <= A, so every leader of a term > A must hold it.
// - State machine safety: every node applies the same entry at each index, and reaches the same
//   state (running hash) there; a snapshot at index i carries that same state.
// (Leader append-only, apply order and commit monotonicity are per node: see sim-node.ts.)

import { decodeConfChange } from '../raft/index.js';
import type { Entry, NodeId } from '../raft/index.js';
import type { ShadowLog } from './shadow-log.js';
import { entryHash } from './state-machine.js';
import { violation } from './violation.js';

interface LogRecord {
  readonly term: number;
  readonly prevTerm: number;
  readonly entry: Entry;
  readonly hash: number;
  readonly node: NodeId;
}

interface AppliedRecord {
  readonly entry: Entry;
  readonly hash: number;
  /** Running state hash after applying this entry. */
  readonly chain: number;
  readonly node: NodeId;
  /** Lowest term any node was in when it applied this entry (an upper bound of its commit term). */
  minApplyTerm: number;
}

function same(a: Entry, aHash: number, b: Entry): boolean {
  return a === b || (a.type === b.type && aHash === entryHash(b));
}

export class Invariants {
  /** term -> its leader. */
  readonly leaders = new Map<number, NodeId>();
  /** index -> every distinct (term) entry seen at that index in any log. */
  private readonly logRecords: (LogRecord[] | undefined)[] = [];
  /** index -> the entry applied there. */
  private readonly applied: (AppliedRecord | undefined)[] = [];
  maxApplied = 0;

  /** A node was observed as leader of `term`. Returns true the first time for that term. */
  onLeader(node: NodeId, term: number): boolean {
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, node);
      return true;
    }
    if (known !== node) {
      violation('election-safety', `two leaders in term ${term}: ${known} and ${node}`);
    }
    return false;
  }

  /** `entry` entered `node`'s log right after an entry of term `prevTerm`. */
  onLogEntry(node: NodeId, entry: Entry, prevTerm: number): void {
    let records = this.logRecords[entry.index];
    if (records === undefined) {
      records = [];
      this.logRecords[entry.index] = records;
    }
    for (const r of records) {
      if (r.term !== entry.term) continue;
      if (r.entry !== entry && !same(r.entry, r.hash, entry)) {
        violation(
          'log-matching',
          `entry ${entry.index}/t${entry.term} differs between ${r.node} and ${node} ` +
            `(${describeEntry(r.entry)} vs ${describeEntry(entry)})`,
        );
      }
      if (r.prevTerm !== prevTerm) {
        violation(
          'log-matching',
          `entry ${entry.index}/t${entry.term} follows term ${r.prevTerm} at index ${entry.index - 1} in ` +
            `${r.node}'s log but term ${prevTerm} in ${node}'s log: the logs agree on ` +
            `${entry.index}/t${entry.term} but not on what precedes it`,
        );
      }
      return;
    }
    records.push({ term: entry.term, prevTerm, entry, hash: entryHash(entry), node });
  }

  /** `node` (in term `nodeTerm`) applied `entry`, reaching state hash `chain`. */
  onApply(node: NodeId, entry: Entry, chain: number, nodeTerm: number): void {
    const known = this.applied[entry.index];
    if (known === undefined) {
      this.applied[entry.index] = { entry, hash: entryHash(entry), chain, node, minApplyTerm: nodeTerm };
      if (entry.index > this.maxApplied) this.maxApplied = entry.index;
      return;
    }
    if (known.entry.term !== entry.term || !same(known.entry, known.hash, entry)) {
      violation(
        'state-machine-safety',
        `index ${entry.index}: ${known.node} applied ${describeEntry(known.entry)} but ${node} applied ${describeEntry(entry)}`,
      );
    }
    if (known.chain !== chain) {
      violation(
        'state-machine-safety',
        `index ${entry.index}: ${node}'s state differs from ${known.node}'s after applying the same entry ` +
          `(state hash ${chain.toString(16)} vs ${known.chain.toString(16)}): their earlier histories differ`,
      );
    }
    if (nodeTerm < known.minApplyTerm) known.minApplyTerm = nodeTerm;
  }

  /** `node` restored its state machine from a snapshot at `index` with state hash `chain`. */
  onSnapshotRestored(node: NodeId, index: number, term: number, chain: number): void {
    const known = this.applied[index];
    if (known === undefined) return;
    if (known.entry.term !== term || known.chain !== chain) {
      violation(
        'state-machine-safety',
        `${node} restored a snapshot at ${index}/t${term} (state hash ${chain.toString(16)}) but ${known.node} ` +
          `applied ${describeEntry(known.entry)} there (state hash ${known.chain.toString(16)})`,
      );
    }
  }

  /** `node` is the leader of `term` and `log` is its whole log. */
  checkLeaderCompleteness(node: NodeId, term: number, log: ShadowLog): void {
    for (let i = log.baseIndex + 1; i <= this.maxApplied; i++) {
      const rec = this.applied[i];
      if (rec === undefined || rec.minApplyTerm >= term) continue;
      const have = log.term(i);
      if (have !== rec.entry.term) {
        violation(
          'leader-completeness',
          `${node}, leader of term ${term}, lacks committed entry ${i}/t${rec.entry.term} ` +
            `(applied by ${rec.node}, in term ${rec.minApplyTerm}); its log has ` +
            `${have === undefined ? `nothing there (last index ${log.lastIndex()})` : `term ${have}`} at ${i}`,
        );
      }
    }
  }

  appliedEntry(index: number): Entry | undefined {
    return this.applied[index]?.entry;
  }
}

const textDecoder = new TextDecoder();

export function describeEntry(e: Entry): string {
  if (e.data.length === 0) return `${e.index}/t${e.term} no-op`;
  let text: string;
  if (e.type === 'conf') {
    const cc = decodeConfChange(e.data);
    text = cc === undefined ? 'conf(?)' : `conf ${cc.type} ${cc.nodeId}`;
  } else {
    text = textDecoder.decode(e.data);
  }
  return `${e.index}/t${e.term} ${text}`;
}
