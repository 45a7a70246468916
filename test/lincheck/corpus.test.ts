// Every verdict of the shared Jepsen corpus must be reproduced, each file well within 60 s.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEvents, parseHistory } from '../../src/lincheck/index.js';
import { requireCorpus } from './helpers.js';

const corpus = requireCorpus();
const PER_FILE_MS = 60_000;

function verdictOf(file: string): string {
  const { events } = parseHistory(readFileSync(file, 'utf8'));
  return checkEvents(events, { timeoutMs: PER_FILE_MS }).result;
}

describe('lincheck - corpus: jepsen-etcd register histories', () => {
  const dir = join(corpus, 'jepsen-etcd');
  const verdicts = JSON.parse(readFileSync(join(dir, 'verdicts.json'), 'utf8')) as Record<string, boolean>;
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));

  it('has a verdict for every log but etcd_095', () => {
    expect(logs.filter((f) => !(f in verdicts))).toEqual(['etcd_095.log']);
    expect(Object.keys(verdicts)).toHaveLength(102);
  });

  it.each(Object.entries(verdicts))(
    '%s -> linearizable: %s',
    (file, linearizable) => {
      expect(verdictOf(join(dir, file))).toBe(linearizable ? 'ok' : 'illegal');
    },
    PER_FILE_MS,
  );
});

describe('lincheck - corpus: kv histories', () => {
  const dir = join(corpus, 'kv');
  const files = readdirSync(dir).filter((f) => /^c\d+-(ok|bad)\.txt$/.test(f));

  it('has the six files', () => {
    expect(files).toHaveLength(6);
  });

  it.each(files)(
    '%s',
    (file) => {
      expect(verdictOf(join(dir, file))).toBe(file.includes('-ok') ? 'ok' : 'illegal');
    },
    PER_FILE_MS,
  );
});
