import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/kv/index.js';
import { commandArb } from './arbitraries.js';
import { Harness } from './helpers.js';
import { KvModel } from './model.js';

/** Error messages are free text; compare codes only. */
function normalize(result: ApplyResult): ApplyResult {
  return 'error' in result ? { error: { code: result.error.code, message: '' } } : result;
}

describe('kv store - against an in-memory model', () => {
  it('matches the model on random command sequences', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 40 }), (commands) => {
        const h = new Harness({ maxRequestIds: 1000 });
        const model = new KvModel();
        for (const cmd of commands) {
          expect(normalize(h.apply(cmd))).toEqual(model.apply(cmd));
        }
        expect(h.kv.revision()).toBe(model.revision);
        expect(h.kv.range().kvs).toEqual(model.sorted());
        const changes = h.kv.changesSince(model.compacted + 1, 10_000);
        expect(changes).toEqual({
          compacted: false,
          events: model.events,
          more: false,
          revision: model.revision,
        });
        h.close();
      }),
      { numRuns: Number(process.env.KV_MODEL_RUNS ?? 150) },
    );
  });
});
