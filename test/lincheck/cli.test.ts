// The check-history CLI, run as a real process from its compiled JavaScript.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/lincheck/cli.js';
import { REPO_ROOT, requireCorpus } from './helpers.js';

const corpus = requireCorpus();
let work = '';
let mainJs = '';

beforeAll(() => {
  // Compile only src/lincheck (see tsconfig.cli.json) into a scratch directory: the same
  // JavaScript `npm run build` puts in dist/lincheck, without touching dist/ or depending on
  // the rest of the tree compiling.
  work = mkdtempSync(join(tmpdir(), 'lincheck-cli-'));
  const out = join(work, 'dist');
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', join(REPO_ROOT, 'test/lincheck/tsconfig.cli.json'), '--outDir', out],
    {
      stdio: 'pipe',
    },
  );
  writeFileSync(join(out, 'package.json'), '{"type": "module"}\n'); // the output is ESM
  mainJs = join(out, 'lincheck/main.js');
}, 120_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [mainJs, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempFile(name: string, lines: readonly unknown[]): string {
  const file = join(work, name);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

describe('lincheck - check-history CLI', () => {
  it('prints "linearizable" and exits 0 on a linearizable corpus file', () => {
    const r = cli(join(corpus, 'jepsen-etcd/etcd_002.log'));
    expect(r).toMatchObject({ code: 0, stdout: 'linearizable\n' });
  });

  it('prints "not linearizable" and exits 1 on a non-linearizable corpus file', () => {
    const r = cli(join(corpus, 'jepsen-etcd/etcd_000.log'));
    expect(r).toMatchObject({ code: 1, stdout: 'not linearizable\n' });
    const kv = cli(join(corpus, 'kv/c10-bad.txt'));
    expect(kv).toMatchObject({ code: 1, stdout: 'not linearizable\n' });
    expect(kv.stderr).toMatch(/^key "\d+" \(\d+ operations\) is not linearizable/);
  });

  it('checks JSON-lines files', () => {
    const ok = [
      { process: 0, type: 'invoke', f: 'write', value: 1 },
      { process: 1, type: 'invoke', f: 'read', value: null },
      { process: 0, type: 'ok', f: 'write', value: 1 },
      { process: 1, type: 'ok', f: 'read', value: null },
      { process: 2, type: 'invoke', f: 'cas', value: [1, 2] },
      { process: 2, type: 'info', f: 'cas', value: [1, 2] },
      { process: 1, type: 'invoke', f: 'read', value: null },
      { process: 1, type: 'ok', f: 'read', value: 2 },
    ];
    expect(cli(tempFile('ok.jsonl', ok))).toMatchObject({ code: 0, stdout: 'linearizable\n' });
    // A stale read after the acknowledged write.
    const stale = [
      ...ok,
      { process: 1, type: 'invoke', f: 'read' },
      { process: 1, type: 'ok', f: 'read', value: 1 },
    ];
    expect(cli(tempFile('stale.jsonl', stale))).toMatchObject({ code: 1, stdout: 'not linearizable\n' });
  });

  it('exits 2 naming the line on a malformed file, and on a missing one', () => {
    const file = tempFile('broken.jsonl', [
      { process: 0, type: 'invoke', f: 'read' },
      '{"process": 0, "type": "ok"',
    ]);
    const r = cli(file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('line 2: invalid JSON');
    const missing = cli(join(work, 'nope.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.jsonl/);
  });

  it('reports "unknown (timed out)" and exits 3 when --timeout is exceeded', () => {
    const r = cli('--timeout', '0.001', join(corpus, 'kv/c50-ok.txt'));
    expect(r).toMatchObject({ code: 3, stdout: 'unknown (timed out)\n' });
  });
});

describe('lincheck - CLI arguments (in process)', () => {
  const run = (...args: string[]): { code: number; out: string[]; err: string[] } => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  };

  it('rejects bad usage with exit 2', () => {
    expect(run().code).toBe(2);
    expect(run('a', 'b').err[0]).toMatch(/exactly one FILE/);
    expect(run('--bogus', 'a').code).toBe(2);
    expect(run('--timeout=0', 'a').err[0]).toMatch(/--timeout must be a positive number/);
    expect(run('--timeout', 'soon', 'a').code).toBe(2);
    expect(run('--timeout', '-1', 'a').code).toBe(2);
  });

  it('prints usage on --help', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/^usage: check-history/);
  });

  it('prints statistics with --verbose', () => {
    const r = run('--verbose', join(corpus, 'jepsen-etcd/etcd_007.log'));
    expect(r.out).toEqual(['linearizable']);
    expect(r.err[0]).toMatch(/etcd_007\.log: jepsen, \d+ events, 1 partition\(s\), \d+ steps, \d+ ms/);
  });
});
