import { describe, expect, it } from 'vitest';
import {
  checkOperations,
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type KvState,
  type Model,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
} from '../../src/lincheck/index.js';
import { op } from './helpers.js';

type RegOp = Operation<RegisterInput, RegisterOutput>;
type KvOp = Operation<KvInput, KvOutput>;

const read = (c: number, value: RegisterOutput | undefined, call: number, ret?: number): RegOp =>
  op(c, { f: 'read' }, value, call, ret);
const write = (c: number, value: number, call: number, ret?: number): RegOp =>
  op(c, { f: 'write', value }, ret === undefined ? undefined : true, call, ret);
const cas = (
  c: number,
  from: number | null,
  to: number,
  ok: boolean | undefined,
  call: number,
  ret?: number,
): RegOp => op(c, { f: 'cas', from, to }, ok, call, ret);

const verdict = (ops: readonly RegOp[]): string => checkOperations(registerModel, ops).result;
const kvVerdict = (ops: readonly KvOp[]): string => checkOperations(kvModel, ops).result;

describe('lincheck - register histories', () => {
  it('accepts the empty history', () => {
    expect(verdict([])).toBe('ok');
  });

  it('accepts a sequential write then read', () => {
    expect(verdict([write(0, 1, 0, 1), read(1, 1, 2, 3)])).toBe('ok');
  });

  it('reads nil before any write', () => {
    expect(verdict([read(0, null, 0, 1)])).toBe('ok');
    expect(verdict([read(0, 0, 0, 1)])).toBe('illegal');
  });

  it('rejects a stale read after an acknowledged write', () => {
    const ops = [write(0, 1, 0, 1), write(0, 2, 2, 3), read(1, 1, 4, 5)];
    const result = checkOperations(registerModel, ops);
    expect(result.result).toBe('illegal');
    expect(result.illegalPartition).toHaveLength(3);
    // The two writes can be ordered; the read cannot follow them.
    expect(result.longestLinearizable?.map((o) => o.input.f)).toEqual(['write', 'write']);
  });

  it('lets a read concurrent with a write see the old or the new value', () => {
    expect(verdict([write(0, 1, 0, 1), write(0, 2, 2, 5), read(1, 1, 3, 4)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 1), write(0, 2, 2, 5), read(1, 2, 3, 4)])).toBe('ok');
  });

  it('rejects a read that goes back in time (new value, then old value)', () => {
    const ops = [write(0, 1, 0, 1), write(0, 2, 2, 9), read(1, 2, 3, 4), read(2, 1, 5, 6)];
    expect(verdict(ops)).toBe('illegal');
  });

  it('treats intervals that touch as concurrent', () => {
    expect(verdict([write(0, 1, 0, 2), read(1, null, 2, 3)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 2), read(1, null, 3, 4)])).toBe('illegal');
  });

  it('checks compare-and-set, including a cas that executed and failed', () => {
    expect(verdict([write(0, 1, 0, 1), cas(1, 1, 2, true, 2, 3), read(0, 2, 4, 5)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 1), cas(1, 3, 2, true, 2, 3)])).toBe('illegal');
    expect(verdict([write(0, 1, 0, 1), cas(1, 3, 2, false, 2, 3), read(0, 1, 4, 5)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 1), cas(1, 1, 2, false, 2, 3)])).toBe('illegal');
  });

  describe('operations with unknown outcome (:info)', () => {
    it('may have taken effect: a later read sees the value', () => {
      expect(verdict([write(0, 1, 0), read(1, 1, 5, 6)])).toBe('ok');
    });

    it('may never take effect: no read ever sees the value', () => {
      expect(verdict([write(0, 1, 0), read(1, null, 5, 6), read(1, null, 7, 8)])).toBe('ok');
    });

    it('may take effect long after its invocation', () => {
      const ops = [write(0, 1, 0), read(1, null, 5, 6), read(1, 1, 7, 8), read(2, 1, 9, 10)];
      expect(verdict(ops)).toBe('ok');
    });

    it('takes effect at most once: seen, then unseen, is illegal', () => {
      const ops = [write(0, 1, 0), read(1, 1, 5, 6), read(1, null, 7, 8)];
      expect(verdict(ops)).toBe('illegal');
    });

    it('cannot take effect before its invocation', () => {
      expect(verdict([read(1, 1, 0, 1), write(0, 1, 2)])).toBe('illegal');
    });

    it('covers a cas that may or may not have swapped', () => {
      const base = [write(0, 1, 0, 1), cas(1, 1, 2, undefined, 2)];
      expect(verdict([...base, read(0, 2, 3, 4)])).toBe('ok');
      expect(verdict([...base, read(0, 1, 3, 4)])).toBe('ok');
      expect(verdict([...base, read(0, 3, 3, 4)])).toBe('illegal');
    });

    it('treats a defined output as known even with an infinite return time', () => {
      // Pending forever, but the result is known: the read must still return 1 at some point.
      expect(verdict([read(1, 1, 0, Infinity)])).toBe('illegal');
    });
  });

  it('rejects operations whose return precedes their call', () => {
    expect(() => verdict([read(0, null, 5, 4)])).toThrow(RangeError);
    expect(() => verdict([read(0, null, Infinity, Infinity)])).toThrow(RangeError);
  });

  it('reports unknown when the step budget runs out, and is exact with enough budget', () => {
    const ops: RegOp[] = [];
    for (let i = 0; i < 12; i++) ops.push(write(i, i, 0, 100));
    ops.push(read(99, 11, 101, 102), read(99, 5, 103, 104));
    expect(checkOperations(registerModel, ops, { maxSteps: 10 }).result).toBe('unknown');
    expect(checkOperations(registerModel, ops).result).toBe('illegal');
    expect(checkOperations(registerModel, ops, { timeoutMs: 0.000001, maxSteps: 1e9 }).result).not.toBe('ok');
  });

  it('handles long histories without overflowing the stack', () => {
    const ops: RegOp[] = [];
    for (let i = 0; i < 20_000; i++) ops.push(write(0, i, 2 * i, 2 * i + 1));
    ops.push(read(1, 19_999, 40_000, 40_001));
    expect(verdict(ops)).toBe('ok');
    ops.push(read(1, 3, 40_002, 40_003));
    expect(verdict(ops)).toBe('illegal');
  });
});

describe('lincheck - key-value histories', () => {
  const get = (c: number, key: string, value: string, call: number, ret: number): KvOp =>
    op(c, { f: 'get', key }, value, call, ret);
  const put = (c: number, key: string, value: string, call: number, ret?: number): KvOp =>
    op(c, { f: 'put', key, value }, ret === undefined ? undefined : true, call, ret);
  const append = (c: number, key: string, value: string, call: number, ret?: number): KvOp =>
    op(c, { f: 'append', key, value }, ret === undefined ? undefined : true, call, ret);

  it('gets "" for an absent key, and what was put or appended', () => {
    expect(kvVerdict([get(0, 'a', '', 0, 1)])).toBe('ok');
    expect(kvVerdict([put(0, 'a', 'x', 0, 1), append(0, 'a', 'y', 2, 3), get(1, 'a', 'xy', 4, 5)])).toBe(
      'ok',
    );
    expect(kvVerdict([append(0, 'a', 'x', 0, 1), append(0, 'a', 'y', 2, 3), get(1, 'a', 'yx', 4, 5)])).toBe(
      'illegal',
    );
  });

  it('orders concurrent appends either way, but the same way for every reader', () => {
    const appends = [append(0, 'a', 'x', 0, 10), append(1, 'a', 'y', 0, 10)];
    expect(kvVerdict([...appends, get(2, 'a', 'xy', 11, 12)])).toBe('ok');
    expect(kvVerdict([...appends, get(2, 'a', 'yx', 11, 12)])).toBe('ok');
    expect(kvVerdict([...appends, get(2, 'a', 'yx', 11, 12), get(3, 'a', 'xy', 13, 14)])).toBe('illegal');
  });

  it('splits per key: keys are independent, and one bad key makes the history illegal', () => {
    const ok = [
      put(0, 'a', '1', 0, 1),
      put(1, 'b', '2', 0, 1),
      get(2, 'a', '1', 2, 3),
      get(3, 'b', '2', 2, 3),
    ];
    const result = checkOperations(kvModel, ok);
    expect(result).toMatchObject({ result: 'ok', partitions: 2 });
    const bad = [...ok, get(2, 'b', '', 4, 5)];
    const r2 = checkOperations(kvModel, bad);
    expect(r2.result).toBe('illegal');
    expect(r2.illegalPartition?.every((o) => o.input.key === 'b')).toBe(true);
  });

  it('allows an unknown append to have happened or not', () => {
    const base = [put(0, 'k', 'a', 0, 1), append(1, 'k', 'b', 2)];
    expect(kvVerdict([...base, get(2, 'k', 'a', 3, 4)])).toBe('ok');
    expect(kvVerdict([...base, get(2, 'k', 'ab', 3, 4)])).toBe('ok');
    expect(kvVerdict([...base, get(2, 'k', 'ab', 3, 4), get(2, 'k', 'a', 5, 6)])).toBe('illegal');
  });

  it('supports register operations per key, with an absent key as its own register', () => {
    const ops: KvOp[] = [
      op(0, { f: 'write', key: 'x', value: 1 }, true, 0, 1),
      op(1, { f: 'write', value: 5 }, true, 0, 1),
      op(2, { f: 'cas', key: 'x', from: 1, to: 2 }, true, 2, 3),
      op(3, { f: 'read', key: 'x' }, 2, 4, 5),
      op(3, { f: 'read' }, 5, 6, 7),
      op(3, { f: 'read', key: 'y' }, null, 6, 7),
    ];
    expect(checkOperations(kvModel, ops)).toMatchObject({ result: 'ok', partitions: 3 });
    expect(kvVerdict([...ops, op(4, { f: 'read', key: 'x' }, 1, 8, 9)])).toBe('illegal');
  });

  it('also works unpartitioned (the model is correct on a multi-key state)', () => {
    const whole: Model<KvState, KvInput, KvOutput> = {
      init: kvModel.init,
      step: kvModel.step,
      hash: kvModel.hash,
    };
    const ops = [
      put(0, 'a', '1', 0, 3),
      put(1, 'b', '2', 0, 3),
      get(2, 'a', '1', 4, 5),
      get(3, 'b', '2', 1, 6),
    ];
    expect(checkOperations(whole, ops)).toMatchObject({ result: 'ok', partitions: 1 });
    expect(checkOperations(whole, [...ops, get(2, 'a', '', 7, 8)]).result).toBe('illegal');
  });
});

describe('lincheck - generic models', () => {
  // A counter incremented by a "coin flip" that may add 1 or 2: a nondeterministic model.
  type CoinInput = { readonly f: 'flip' } | { readonly f: 'read' };
  const coin: Model<number, CoinInput, number | true> = {
    init: () => 0,
    step: (s, input, output) => {
      if (input.f === 'flip') return [s + 1, s + 2];
      return output === undefined || output === s ? [s] : [];
    },
    hash: (s) => s,
  };

  it('explores every successor of a nondeterministic step', () => {
    const flip = (c: number, call: number, ret: number): Operation<CoinInput, number | true> =>
      op(c, { f: 'flip' }, true, call, ret);
    const readC = (c: number, v: number, call: number, ret: number): Operation<CoinInput, number | true> =>
      op(c, { f: 'read' }, v, call, ret);
    expect(checkOperations(coin, [flip(0, 0, 1), flip(0, 2, 3), readC(1, 3, 4, 5)]).result).toBe('ok');
    expect(checkOperations(coin, [flip(0, 0, 1), flip(0, 2, 3), readC(1, 4, 4, 5)]).result).toBe('ok');
    expect(
      checkOperations(coin, [flip(0, 0, 1), readC(1, 2, 2, 3), flip(0, 4, 5), readC(1, 3, 6, 7)]).result,
    ).toBe('ok');
    expect(checkOperations(coin, [flip(0, 0, 1), flip(0, 2, 3), readC(1, 5, 4, 5)]).result).toBe('illegal');
  });

  it('treats an unknown operation the model rejects as one that did not happen', () => {
    // A model whose "fragile" operation has no successor unless the state is 0.
    type In = { readonly f: 'set' } | { readonly f: 'fragile' } | { readonly f: 'read' };
    const m: Model<number, In, number | true> = {
      init: () => 0,
      step: (s, input, output) => {
        if (input.f === 'set') return [1];
        if (input.f === 'fragile') return s === 0 ? [10] : [];
        return output === s ? [s] : [];
      },
      hash: (s) => s,
    };
    const ops: Operation<In, number | true>[] = [
      op(0, { f: 'set' }, true, 0, 1),
      op<In, number | true>(1, { f: 'fragile' }, undefined, 2),
      op(2, { f: 'read' }, 1, 3, 4),
    ];
    expect(checkOperations(m, ops).result).toBe('ok');
  });
});
