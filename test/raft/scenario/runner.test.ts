import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command, Interpreter } from './runner.js';
import { lineDiff, parseCommand, parseScript, runScript, ScriptFailure } from './runner.js';

/** Echoes its arguments; `fail` throws; `blank` prints two lines around a blank one. */
class Echo implements Interpreter {
  run(command: Command): string {
    if (command.name === 'fail') throw new Error('boom');
    if (command.name === 'blank') return 'a\n\nb';
    if (command.name === 'quiet') return '';
    return command.args.map((a) => (a.keyed ? `${a.key}=[${a.values.join('|')}]` : a.key)).join(' ');
  }
}

function tempScript(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'scenario-')), 'script.txt');
  writeFileSync(path, text);
  return path;
}

describe('raft scenario runner', () => {
  it('parses positional, keyed, list and quoted arguments', () => {
    const c = parseCommand('cmd 1 k=v l=(1, 2,3) e=() "a b" q="x y" m=("p,q",r)', 7);
    expect(c.name).toBe('cmd');
    expect(c.line).toBe(7);
    expect(c.args).toEqual([
      { key: '1', values: [], keyed: false },
      { key: 'k', values: ['v'], keyed: true },
      { key: 'l', values: ['1', '2', '3'], keyed: true },
      { key: 'e', values: [], keyed: true },
      { key: 'a b', values: [], keyed: false },
      { key: 'q', values: ['x y'], keyed: true },
      { key: 'm', values: ['p,q', 'r'], keyed: true },
    ]);
    expect(() => parseCommand('cmd l=(1,2', 1)).toThrow(/unbalanced/);
    expect(() => parseCommand('cmd "x', 1)).toThrow(/unterminated/);
  });

  it('parses comments, multi-command blocks and wrapped outputs', () => {
    const blocks = parseScript(
      [
        '# comment',
        '',
        'one 1',
        'two 2',
        '----',
        'out1',
        'out2',
        '',
        'three',
        '----',
        '----',
        'x',
        '',
        'y',
        '----',
        '----',
        '',
      ].join('\n'),
    );
    expect(blocks.map((b) => b.commands.map((c) => c.name))).toEqual([['one', 'two'], ['three']]);
    expect(blocks.map((b) => b.expected)).toEqual(['out1\nout2', 'x\n\ny']);
    expect(blocks.map((b) => b.line)).toEqual([3, 9]);
    expect(() => parseScript('cmd\n\n----\n')).toThrow(/line 2: blank line/);
    expect(() => parseScript('cmd')).toThrow(/without '----'/);
  });

  it('passes when outputs match and reports file:line with a diff when not', () => {
    const ok = tempScript('echo 1 a=(b)\n----\n1 a=[b]\n\nquiet\n----\nok\n');
    expect(() => {
      runScript(ok, () => new Echo(), { rewrite: false });
    }).not.toThrow();
    const bad = tempScript('echo 1\n----\n1\n\necho 2\n----\n3\n');
    expect(() => {
      runScript(bad, () => new Echo(), { rewrite: false });
    }).toThrow(
      /script\.txt:7: output differs \(- expected, \+ actual\) in the block at line 5:\n {2}echo 2\n- 3\n\+ 2/,
    );
  });

  it('fails on a command error with file:line, even when rewriting', () => {
    const path = tempScript('echo 1\n----\nstale\n\nfail\n----\nok\n');
    expect(() => {
      runScript(path, () => new Echo(), { rewrite: true });
    }).toThrow(ScriptFailure);
    expect(() => {
      runScript(path, () => new Echo(), { rewrite: false });
    }).toThrow(/script\.txt:5: fail\nboom/);
    // The outputs before the failing block were rewritten.
    expect(readFileSync(path, 'utf8')).toBe('echo 1\n----\n1\n\nfail\n----\nok\n');
  });

  it('rewrites outputs, wrapping those that contain blank lines', () => {
    const path = tempScript('# keep me\necho 1\n----\nold\nolder\n\nblank\n----\nx\n\n# end\n');
    runScript(path, () => new Echo(), { rewrite: true });
    const rewritten = readFileSync(path, 'utf8');
    expect(rewritten).toBe('# keep me\necho 1\n----\n1\n\nblank\n----\n----\na\n\nb\n----\n----\n\n# end\n');
    expect(() => {
      runScript(path, () => new Echo(), { rewrite: false });
    }).not.toThrow();
    runScript(path, () => new Echo(), { rewrite: true });
    expect(readFileSync(path, 'utf8')).toBe(rewritten);
  });

  it('diffs lines, eliding unchanged lines far from a change', () => {
    expect(lineDiff('a\nb\nc', 'a\nx\nc')).toBe('  a\n- b\n+ x\n  c');
    expect(lineDiff('1\n2\n3\n4\n5\n6', '1\n2\n3\n4\n5\nsix', 1)).toBe('  ...\n  5\n- 6\n+ six');
  });
});
