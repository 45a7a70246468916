import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CpuWindow, processCpuSeconds } from '../../src/bench/cpu-time.js';

const burn = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: this test needs CPU time to pass
  }
};

describe.runIf(process.platform === 'linux')('CPU time of processes (Linux /proc)', () => {
  it('counts the CPU a process uses', () => {
    const before = processCpuSeconds(process.pid);
    burn(300);
    const after = processCpuSeconds(process.pid);
    expect(before).toBeTypeOf('number');
    // 300 ms of spinning; the clock ticks are 10 ms and the machine may be busy, so allow slack.
    expect(after! - before!).toBeGreaterThanOrEqual(0.15);
  });

  it('knows nothing of a process that does not exist', () => {
    expect(processCpuSeconds(2 ** 22 + 12_345)).toBeUndefined();
  });

  it('splits a window between groups: a spinning child against an idle one', async () => {
    const spinner = spawn(process.execPath, ['-e', 'const t = Date.now() + 5000; while (Date.now() < t);']);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
    try {
      const window = new CpuWindow<'busy' | 'idle'>(
        () =>
          new Map([
            ['busy', [spinner.pid!]],
            ['idle', [sleeper.pid!]],
          ]),
      );
      await new Promise((r) => setTimeout(r, 300));
      window.start();
      await new Promise((r) => setTimeout(r, 800));
      window.stop();
      expect(window.wallSeconds()).toBeGreaterThanOrEqual(0.79);
      expect(window.seconds('busy')).toBeGreaterThan(0.2);
      expect(window.seconds('idle')).toBeLessThan(0.05);
    } finally {
      spinner.kill('SIGKILL');
      sleeper.kill('SIGKILL');
      await Promise.all([once(spinner, 'exit'), once(sleeper, 'exit')]);
    }
  });

  it('reports no figure when a process went away during the window', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
    const window = new CpuWindow<'child'>(() => new Map([['child', [child.pid!]]]));
    await new Promise((r) => setTimeout(r, 200));
    window.start();
    child.kill('SIGKILL');
    await once(child, 'exit');
    window.stop();
    expect(window.seconds('child')).toBeUndefined();
  });
});
