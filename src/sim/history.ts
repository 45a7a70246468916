// The client history: one record per operation that may have taken effect, in the shape the
// linearizability checker (src/lincheck) expects, plus the thin adapter to its kvModel.

import { checkOperations, kvModel } from '../lincheck/index.js';
import type { CheckResult, KvInput, KvOutput, Operation } from '../lincheck/index.js';

export type OpKind = 'read' | 'write' | 'cas';

export interface HistoryOp {
  readonly client: number;
  readonly kind: OpKind;
  readonly key: string;
  /** write: the value written. */
  readonly value?: string;
  /** cas: expected and new value (null: the key is absent). */
  readonly from?: string | null;
  readonly to?: string;
  /** read: the value read; write: true; cas: swapped or not; undefined: unknown outcome. */
  readonly output: string | null | boolean | undefined;
  /** Simulated times (ms). `ret` is Infinity when the outcome is unknown (Jepsen :info). */
  readonly call: number;
  readonly ret: number;
}

export function toOperation(op: HistoryOp): Operation<KvInput, KvOutput> {
  let input: KvInput;
  switch (op.kind) {
    case 'read':
      input = { f: 'read', key: op.key };
      break;
    case 'write':
      input = { f: 'write', key: op.key, value: op.value ?? null };
      break;
    case 'cas':
      input = { f: 'cas', key: op.key, from: op.from ?? null, to: op.to ?? null };
      break;
  }
  return { clientId: op.client, input, output: op.output, call: op.call, return: op.ret };
}

export function describeOp(op: HistoryOp): string {
  const input = toOperation(op).input;
  const text = kvModel.describe?.(input, op.output) ?? op.kind;
  const ret = op.ret === Infinity ? 'never (unknown outcome)' : `${op.ret.toFixed(3)}ms`;
  return `client ${op.client}: ${text}  [called ${op.call.toFixed(3)}ms, returned ${ret}]`;
}

/** Runs the checker with a deterministic step budget. */
export function checkHistory(
  history: readonly HistoryOp[],
  maxSteps: number,
): CheckResult<KvInput, KvOutput> {
  return checkOperations(kvModel, history.map(toOperation), { maxSteps });
}

/** The operations of the illegal part that the search could not linearize, by call time. */
function culprits(result: CheckResult<KvInput, KvOutput>): Operation<KvInput, KvOutput>[] {
  const inLongest = new Set(result.longestLinearizable ?? []);
  return (result.illegalPartition ?? []).filter((o) => !inLongest.has(o)).sort((a, b) => a.call - b.call);
}

/**
 * When the first operation that could not be linearized returned: the moment to look at in
 * the trace (undefined if none of them returned).
 */
export function firstCulpritReturn(result: CheckResult<KvInput, KvOutput>): number | undefined {
  let first: number | undefined;
  for (const o of culprits(result)) {
    if (o.return !== Infinity && (first === undefined || o.return < first)) first = o.return;
  }
  return first;
}

/** Readable lines for an illegal verdict. */
export function explainIllegal(result: CheckResult<KvInput, KvOutput>, limit: number): string[] {
  const part = result.illegalPartition ?? [];
  const describe = (o: Operation<KvInput, KvOutput>): string => {
    const ret = o.return === Infinity ? 'never' : `${o.return.toFixed(3)}ms`;
    return `client ${o.clientId}: ${kvModel.describe?.(o.input, o.output) ?? ''}  [${o.call.toFixed(3)}ms .. ${ret}]`;
  };
  const longest = result.longestLinearizable ?? [];
  const lines = [
    `longest linearizable order found (${longest.length} of ${part.length} operations on this key), ending:`,
  ];
  for (const o of longest.slice(-8)) lines.push(`  ${describe(o)}`);
  const rest = culprits(result);
  lines.push(
    `none of these can come next (first ${Math.min(limit, rest.length)} of ${rest.length}, by call time):`,
  );
  for (const o of rest.slice(0, limit)) lines.push(`  ${describe(o)}`);
  return lines;
}
