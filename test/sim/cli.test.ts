import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/sim/cli.js';

function cli(...args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  let t = 0;
  const code = runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), now: () => (t += 1) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sim - CLI', () => {
  it('exits 2 with a clear message on bad arguments', () => {
    expect(cli().code).toBe(2);
    expect(cli().err).toContain('give exactly one of --seeds N or --seed S');
    expect(cli('--seeds', 'ten').err).toContain('--seeds must be an integer >= 1, got "ten"');
    expect(cli('--seeds', '3', '--mutant', 'nope').err).toContain('unknown mutant "nope"');
    expect(cli('--seeds', '3', '--nodes', '4').err).toContain('--nodes must be 1, 3 or 5');
    expect(cli('--seeds', '3', '--bogus').code).toBe(2);
    expect(cli('--seed', '1', '--start', '2').code).toBe(2);
  });

  it('prints usage on --help', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage:');
  });

  it('runs a range of seeds and summarizes', () => {
    const r = cli('--seeds', '3', '--start', '10');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('running seeds 10..12');
    expect(r.out).toMatch(/ran 3 seeds \(10\.\.12\) in .*: 0 violation\(s\)/);
  });

  it('replays one seed with its trace', () => {
    const r = cli('--seed', '4', '--trace-lines', '5');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('seed 4: OK');
    expect(r.out).toContain('last 5 trace lines');
  });

  it('exits 1 and prints the replay command on a violation', () => {
    const r = cli('--seeds', '200', '--mutant', 'skip-prev-log-check');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VIOLATION \(\S+\) at seed \d+/);
    expect(r.out).toMatch(/replay: npm run sim -- --seed \d+ --mutant skip-prev-log-check/);
    expect(r.out).toContain('trace lines (oldest first)');
  });
});
