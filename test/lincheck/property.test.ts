// Property tests: histories produced by really running operations against a sequential object
// (with random timing around each operation's linearization point) are linearizable; a read
// mutated to a value never written is not; and on small random histories the checker agrees
// with a brute-force search over all orders.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkEvents,
  checkOperations,
  kvModel,
  registerModel,
  type HistoryEvent,
  type KvInput,
  type KvOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
} from '../../src/lincheck/index.js';

/**
 * How an operation ends: `ok` (known result), `info` (took effect, result unknown), `lost`
 * (unknown result, never took effect), `fail` (did not happen; left out of the history).
 */
type Fate = 'ok' | 'info' | 'lost' | 'fail';

interface Timed<C> {
  readonly cmd: C;
  readonly fate: Fate;
  /** How long before its linearization point the operation was invoked. */
  readonly before: number;
  /** How long after its linearization point the response arrived. */
  readonly after: number;
}

const timed = <C>(cmd: fc.Arbitrary<C>): fc.Arbitrary<Timed<C>> =>
  fc.record({
    cmd,
    fate: fc.constantFrom<Fate>('ok', 'ok', 'ok', 'ok', 'info', 'lost', 'fail'),
    before: fc.integer({ min: 0, max: 40 }),
    after: fc.integer({ min: 0, max: 40 }),
  });

/**
 * Runs `cmds` one after the other (operation k takes effect at time 10k + 5), applying `apply`
 * unless the fate says it never happened, and builds the resulting concurrent history. Any op
 * that ends before another begins also took effect before it, so the history is linearizable.
 */
function runHistory<S, C, I, O>(
  init: S,
  cmds: readonly Timed<C>[],
  apply: (state: S, cmd: C) => { state: S; input: I; output: O },
): Operation<I, O>[] {
  let state = init;
  const ops: Operation<I, O>[] = [];
  for (const [k, { cmd, fate, before, after }] of cmds.entries()) {
    const at = 10 * k + 5;
    const r = apply(state, cmd);
    if (fate === 'ok' || fate === 'info') state = r.state;
    if (fate === 'fail') continue;
    const known = fate === 'ok';
    ops.push({
      clientId: k,
      input: r.input,
      output: known ? r.output : undefined,
      call: at - before,
      return: known ? at + after : Infinity,
    });
  }
  return ops;
}

type RegCmd = { f: 'read' } | { f: 'write'; value: number } | { f: 'cas'; from: number | null; to: number };
const regCmd: fc.Arbitrary<RegCmd> = fc.oneof(
  fc.constant<RegCmd>({ f: 'read' }),
  fc.integer({ min: 0, max: 3 }).map((value): RegCmd => ({ f: 'write', value })),
  fc
    .record({
      from: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
      to: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ from, to }): RegCmd => ({ f: 'cas', from, to })),
);

function applyReg(
  state: RegisterValue,
  cmd: RegCmd,
): { state: RegisterValue; input: RegisterInput; output: RegisterOutput } {
  switch (cmd.f) {
    case 'read':
      return { state, input: cmd, output: state };
    case 'write':
      return { state: cmd.value, input: cmd, output: true };
    case 'cas':
      return state === cmd.from
        ? { state: cmd.to, input: cmd, output: true }
        : { state, input: cmd, output: false };
  }
}

type KvCmd = { f: 'get'; key: string } | { f: 'put' | 'append'; key: string; value: string };
const kvCmd: fc.Arbitrary<KvCmd> = fc.oneof(
  fc.constantFrom('a', 'b', 'c').map((key): KvCmd => ({ f: 'get', key })),
  fc
    .record({
      f: fc.constantFrom<'put' | 'append'>('put', 'append', 'append'),
      key: fc.constantFrom('a', 'b', 'c'),
      value: fc.constantFrom('x', 'y', 'z', 'xy'),
    })
    .map((c): KvCmd => c),
);

function applyKv(
  state: ReadonlyMap<string, string>,
  cmd: KvCmd,
): { state: ReadonlyMap<string, string>; input: KvInput; output: KvOutput } {
  const current = state.get(cmd.key) ?? '';
  if (cmd.f === 'get') return { state, input: cmd, output: current };
  const next = new Map(state);
  next.set(cmd.key, cmd.f === 'put' ? cmd.value : current + cmd.value);
  return { state: next, input: cmd, output: true };
}

/** Replaces the output of the `pick`-th read/get with a known output by `value`, if any. */
function mutateRead<I extends { f: string }, O>(
  ops: readonly Operation<I, O>[],
  pick: number,
  value: O,
): Operation<I, O>[] | undefined {
  const reads = ops.flatMap((o, i) =>
    (o.input.f === 'read' || o.input.f === 'get') && o.output !== undefined ? [i] : [],
  );
  if (reads.length === 0) return undefined;
  const target = reads[pick % reads.length]!;
  return ops.map((o, i) => (i === target ? { ...o, output: value } : o));
}

/** Turns operations into an event list (one process per operation, events in time order). */
function toEvents(ops: readonly Operation<KvInput, KvOutput>[]): HistoryEvent[] {
  const timeline: { t: number; order: number; ev: HistoryEvent }[] = [];
  for (const [k, o] of ops.entries()) {
    const { f, key } = o.input;
    const arg = o.input.f === 'put' || o.input.f === 'append' ? o.input.value : null;
    const base = key === undefined ? { process: k, f } : { process: k, f, key };
    timeline.push({ t: o.call, order: 0, ev: { ...base, type: 'invoke', value: arg } });
    if (o.output !== undefined) {
      const value = typeof o.output === 'string' ? o.output : arg;
      timeline.push({ t: o.return, order: 1, ev: { ...base, type: 'ok', value } });
    } else {
      timeline.push({ t: Infinity, order: 1, ev: { ...base, type: 'info', value: null } });
    }
  }
  // Ties: invocations first, matching the checker's "touching intervals are concurrent".
  timeline.sort((a, b) => (a.t === b.t ? a.order - b.order : a.t < b.t ? -1 : 1));
  return timeline.map((e) => e.ev);
}

describe('lincheck - properties', () => {
  it('register histories from a sequential run are linearizable; a read of an unwritten value is not', () => {
    fc.assert(
      fc.property(fc.array(timed(regCmd), { minLength: 1, maxLength: 40 }), fc.nat(), (cmds, pick) => {
        const ops = runHistory<RegisterValue, RegCmd, RegisterInput, RegisterOutput>(null, cmds, applyReg);
        expect(checkOperations(registerModel, ops).result).toBe('ok');
        const bad = mutateRead(ops, pick, 99);
        if (bad) expect(checkOperations(registerModel, bad).result).toBe('illegal');
      }),
      { numRuns: 300 },
    );
  });

  it('kv histories from a sequential run are linearizable; a get of an unwritten value is not', () => {
    fc.assert(
      fc.property(fc.array(timed(kvCmd), { minLength: 1, maxLength: 60 }), fc.nat(), (cmds, pick) => {
        const ops = runHistory<ReadonlyMap<string, string>, KvCmd, KvInput, KvOutput>(
          new Map(),
          cmds,
          applyKv,
        );
        expect(checkOperations(kvModel, ops).result).toBe('ok');
        // Through the event pipeline too (pairing, model selection).
        expect(checkEvents(toEvents(ops)).result).toBe('ok');
        const bad = mutateRead(ops, pick, 'never#');
        if (bad) {
          expect(checkOperations(kvModel, bad).result).toBe('illegal');
          expect(checkEvents(toEvents(bad)).result).toBe('illegal');
        }
      }),
      { numRuns: 200 },
    );
  });
});

// ---- Brute force: try every order consistent with real time. ----

type RegOp = Operation<RegisterInput, RegisterOutput>;

/** The register's successor states, written independently of the model under test. */
function specStep(state: RegisterValue, op: RegOp): RegisterValue[] {
  const known = op.output !== undefined;
  const { input } = op;
  if (input.f === 'read') return !known ? [state] : op.output === state ? [state] : [];
  if (input.f === 'write') return [input.value];
  if (!known) return state === input.from ? [input.to, state] : [state];
  if (op.output === false) return state !== input.from ? [state] : [];
  return state === input.from ? [input.to] : [];
}

function bruteForce(ops: readonly RegOp[]): boolean {
  const done = ops.map(() => false);
  const knownLeft = (): number => ops.filter((o, i) => !done[i] && o.output !== undefined).length;
  const search = (state: RegisterValue): boolean => {
    // Operations with unknown outcome left over never happened (or happened last, unseen).
    if (knownLeft() === 0) return true;
    for (const [i, o] of ops.entries()) {
      if (done[i]) continue;
      // o can go next only if no pending operation returned before o was called.
      if (ops.some((p, j) => !done[j] && j !== i && p.return < o.call)) continue;
      const nexts = specStep(state, o);
      // An unknown operation may also never happen at all.
      if (o.output === undefined && !nexts.includes(state)) nexts.push(state);
      for (const s of nexts) {
        done[i] = true;
        if (search(s)) return true;
        done[i] = false;
      }
    }
    return false;
  };
  return search(null);
}

const randomRegOp: fc.Arbitrary<RegOp> = fc
  .record({
    cmd: regCmd,
    call: fc.integer({ min: 0, max: 12 }),
    duration: fc.integer({ min: 0, max: 8 }),
    unknown: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
    read: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    swapped: fc.boolean(),
  })
  .map(({ cmd, call, duration, unknown, read, swapped }): RegOp => {
    const output: RegisterOutput | undefined = unknown
      ? undefined
      : cmd.f === 'read'
        ? read
        : cmd.f === 'cas'
          ? swapped
          : true;
    return { clientId: 0, input: cmd, output, call, return: unknown ? Infinity : call + duration };
  });

describe('lincheck - agrees with brute force', () => {
  it('on small random register histories', () => {
    let illegal = 0;
    let ok = 0;
    fc.assert(
      fc.property(fc.array(randomRegOp, { minLength: 0, maxLength: 7 }), (ops) => {
        const expected = bruteForce(ops);
        if (expected) ok++;
        else illegal++;
        expect(checkOperations(registerModel, ops).result).toBe(expected ? 'ok' : 'illegal');
      }),
      { numRuns: 1000 },
    );
    // Both verdicts must actually have been exercised.
    expect(ok).toBeGreaterThan(50);
    expect(illegal).toBeGreaterThan(50);
  });
});
