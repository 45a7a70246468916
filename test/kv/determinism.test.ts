import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/kv/index.js';
import { commandArb } from './arbitraries.js';
import { Harness } from './helpers.js';

/** Committed entries as a node would see them: encoded commands, some garbage, some empty. */
function entries(seed: number, n: number): Uint8Array[] {
  const commands = fc.sample(commandArb, { seed, numRuns: n });
  return commands.map((cmd, i) =>
    i % 17 === 5 ? new Uint8Array([0xba, 0xd0, i]) : i % 23 === 7 ? new Uint8Array() : encodeCommand(cmd),
  );
}

describe('kv store - determinism', () => {
  it('two stores fed the same entries end byte-identical', () => {
    for (const seed of [1, 2, 3]) {
      const log = entries(seed, 400);
      const a = new Harness({ maxRequestIds: 3 });
      const b = new Harness({ maxRequestIds: 3 });
      const resultsA = log.map((e) => a.apply(e));
      const resultsB = log.map((e) => b.apply(e));
      expect(resultsB).toEqual(resultsA);
      expect(Buffer.from(b.kv.serialize()).equals(Buffer.from(a.kv.serialize()))).toBe(true);
    }
  });

  it('a store restored from a snapshot continues exactly like the original', () => {
    const log = entries(7, 600);
    const original = new Harness();
    log.slice(0, 300).forEach((e) => original.apply(e));

    const follower = new Harness();
    follower.put('stale', 'state to be replaced');
    follower.inTransaction(() => {
      follower.kv.restore(original.kv.serialize());
    });
    follower.index = original.index;
    expect(Buffer.from(follower.kv.serialize()).equals(Buffer.from(original.kv.serialize()))).toBe(true);

    const rest = log.slice(300);
    expect(rest.map((e) => follower.apply(e))).toEqual(rest.map((e) => original.apply(e)));
    expect(Buffer.from(follower.kv.serialize()).equals(Buffer.from(original.kv.serialize()))).toBe(true);
  });
});
