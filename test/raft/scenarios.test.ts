import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InteractionEnv } from './scenario/env.js';
import { runScript } from './scenario/runner.js';

// Each testdata/*.txt is an interaction script: commands and their expected output (see
// scenario/runner.ts for the format, scenario/env.ts for the commands). REWRITE=1 regenerates the
// expected outputs; review the diff before committing it. Assertions (check*) fail regardless.
const testdata = join(dirname(fileURLToPath(import.meta.url)), 'scenario', 'testdata');
const scripts = readdirSync(testdata)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('raft scenarios', () => {
  it('finds the scenario scripts', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of scripts) {
    it(`raft scenario - ${file.replace(/\.txt$/, '')}`, () => {
      runScript(join(testdata, file), () => new InteractionEnv(), { rewrite: process.env.REWRITE === '1' });
    });
  }
});
