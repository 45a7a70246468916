import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * A small datadriven test runner in the style of cockroachdb/datadriven, as used by etcd-io/raft's
 * testdata/*.txt "interaction" scripts.
 *
 * A script is a sequence of blocks. Lines starting with `#` are comments; blank lines separate
 * blocks. A block is one or more command lines, a line `----`, then the expected output up to the
 * next blank line. An expected output that itself contains blank lines is wrapped in a second pair
 * of separators:
 *
 *     command
 *     ----
 *     ----
 *     output with
 *
 *     a blank line
 *     ----
 *     ----
 *
 * Running a block executes its commands in order and compares the concatenated output with the
 * expected text exactly. With REWRITE=1 in the environment, the expected outputs are replaced by
 * the actual ones (to be reviewed before committing).
 */

/** One command line: `name arg key=value key=(a,b) "quoted value"`. */
export interface Command {
  readonly name: string;
  readonly args: readonly CommandArg[];
  /** The line as written. */
  readonly text: string;
  /** 1-based line number in the script. */
  readonly line: number;
}

/** A positional argument has `key` set to its value and `values` empty. */
export interface CommandArg {
  readonly key: string;
  readonly values: readonly string[];
  /** Whether the argument was written `key=...`. */
  readonly keyed: boolean;
}

export interface Block {
  readonly commands: readonly Command[];
  readonly expected: string;
  /** 1-based line of the first command. */
  readonly line: number;
  /** 0-based line range [outStart, outEnd) of the whole output section, separators after the first excluded. */
  readonly outStart: number;
  readonly outEnd: number;
  /** Whether the output was written in the `----\n----` wrapped form. */
  readonly wrapped: boolean;
}

export class ScriptSyntaxError extends Error {
  override readonly name = 'ScriptSyntaxError';
}

/** Splits a command line into its name and arguments. Quotes group spaces; parentheses group lists. */
export function parseCommand(text: string, line: number): Command {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  let hasToken = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < text.length) {
        current += ch + text[i + 1]!;
        i++;
      } else {
        current += ch;
        if (ch === '"') quoted = false;
      }
      continue;
    }
    if (ch === '"') {
      quoted = true;
      hasToken = true;
      current += ch;
    } else if (ch === '(') {
      depth++;
      current += ch;
      hasToken = true;
    } else if (ch === ')') {
      depth--;
      if (depth < 0) throw new ScriptSyntaxError(`line ${line}: unbalanced ')'`);
      current += ch;
    } else if ((ch === ' ' || ch === '\t') && depth === 0) {
      if (hasToken) tokens.push(current);
      current = '';
      hasToken = false;
    } else {
      current += ch;
      hasToken = true;
    }
  }
  if (quoted) throw new ScriptSyntaxError(`line ${line}: unterminated quote`);
  if (depth !== 0) throw new ScriptSyntaxError(`line ${line}: unbalanced '('`);
  if (hasToken) tokens.push(current);
  const [name, ...rest] = tokens;
  if (name === undefined) throw new ScriptSyntaxError(`line ${line}: empty command`);
  return { name, args: rest.map((t) => parseArg(t)), text, line };
}

function parseArg(token: string): CommandArg {
  const eq = token.indexOf('=');
  const startsQuoted = token.startsWith('"');
  if (eq <= 0 || startsQuoted) return { key: unquote(token), values: [], keyed: false };
  const key = token.slice(0, eq);
  const raw = token.slice(eq + 1);
  if (raw.startsWith('(') && raw.endsWith(')')) {
    const inner = raw.slice(1, -1).trim();
    const values = inner === '' ? [] : splitList(inner).map((v) => unquote(v.trim()));
    return { key, values, keyed: true };
  }
  return { key, values: [unquote(raw)], keyed: true };
}

/** Splits `a, "b,c", d` on commas outside quotes. */
function splitList(inner: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (quoted && ch === '\\' && i + 1 < inner.length) {
      current += ch + inner[i + 1]!;
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    return JSON.parse(s) as string;
  }
  return s;
}

const SEPARATOR = '----';

/** Parses a script into blocks. Throws ScriptSyntaxError naming the line on malformed input. */
export function parseScript(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    if (first.trim() === '' || first.startsWith('#')) {
      i++;
      continue;
    }
    const commands: Command[] = [];
    const blockLine = i + 1;
    while (i < lines.length && lines[i] !== SEPARATOR) {
      const text = lines[i]!;
      if (text.trim() === '') {
        throw new ScriptSyntaxError(`line ${i + 1}: blank line in a command block (missing '${SEPARATOR}'?)`);
      }
      if (!text.startsWith('#')) commands.push(parseCommand(text.trim(), i + 1));
      i++;
    }
    if (i >= lines.length)
      throw new ScriptSyntaxError(`line ${blockLine}: command block without '${SEPARATOR}'`);
    i++; // past the separator
    const outStart = i;
    if (lines[i] === SEPARATOR) {
      // Wrapped form: the output ends at the next `----` line directly followed by another `----`.
      i++;
      const bodyStart = i;
      while (i < lines.length && !(lines[i] === SEPARATOR && lines[i + 1] === SEPARATOR)) i++;
      if (i >= lines.length) {
        throw new ScriptSyntaxError(`line ${blockLine}: wrapped output without closing '${SEPARATOR}' pair`);
      }
      const expected = lines.slice(bodyStart, i).join('\n');
      i += 2;
      blocks.push({ commands, expected, line: blockLine, outStart, outEnd: i, wrapped: true });
      continue;
    }
    while (i < lines.length && lines[i]!.trim() !== '') i++;
    const expected = lines.slice(outStart, i).join('\n');
    blocks.push({ commands, expected, line: blockLine, outStart, outEnd: i, wrapped: false });
  }
  return blocks;
}

/**
 * Lines of `actual` against `expected`, as a minimal line diff (LCS): `-` expected, `+` actual,
 * unchanged lines indented; with `context`, unchanged lines farther than that from a change are
 * elided.
 */
export function lineDiff(expected: string, actual: string, context = Infinity): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i]!}`);
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${a[i]!}`);
      i++;
    } else {
      out.push(`+ ${b[j]!}`);
      j++;
    }
  }
  return elideContext(out, context).join('\n');
}

/** Keeps `context` unchanged lines around each change; longer unchanged runs become `  ...`. */
function elideContext(lines: readonly string[], context: number): string[] {
  if (!Number.isFinite(context)) return [...lines];
  const changed = lines.map((l) => !l.startsWith('  '));
  const keep = lines.map((_, i) => {
    for (let d = -context; d <= context; d++) if (changed[i + d] === true) return true;
    return false;
  });
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (keep[i]) out.push(lines[i]!);
    else if (out[out.length - 1] !== '  ...') out.push('  ...');
  }
  return out;
}

/** Whatever runs a script's commands. `run` returns the command's output (possibly empty). */
export interface Interpreter {
  run(command: Command): string;
}

export class ScriptFailure extends Error {
  override readonly name = 'ScriptFailure';
}

export interface RunOptions {
  /** Replace expected outputs with actual ones and write the file back. */
  readonly rewrite: boolean;
}

/** Output of a block: each command's non-empty output in order, or `ok` when there is none. */
function runBlock(interpreter: Interpreter, block: Block, file: string): string {
  const parts: string[] = [];
  for (const command of block.commands) {
    let out: string;
    try {
      out = interpreter.run(command);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const sofar = parts.length > 0 ? `\noutput of the block so far:\n${parts.join('\n')}` : '';
      throw new ScriptFailure(`${file}:${command.line}: ${command.text}\n${reason}${sofar}`, {
        cause: err,
      });
    }
    if (out !== '') parts.push(out);
  }
  return parts.length === 0 ? 'ok' : parts.join('\n');
}

function renderOutput(actual: string): string[] {
  const lines = actual.split('\n');
  if (lines.some((l) => l.trim() === '')) return [SEPARATOR, ...lines, SEPARATOR, SEPARATOR];
  return lines;
}

/**
 * Runs every block of the script at `path` against a fresh interpreter. Throws ScriptFailure with
 * `file:line` and a diff on the first mismatch (or with the command's error). With `rewrite`, writes
 * the actual outputs back into the file instead of comparing (errors still fail the run, after the
 * outputs produced so far are written).
 */
export function runScript(path: string, makeInterpreter: () => Interpreter, options: RunOptions): void {
  const text = readFileSync(path, 'utf8');
  const blocks = parseScript(text);
  const file = basename(path);
  const interpreter = makeInterpreter();
  const rewritten: { block: Block; actual: string }[] = [];
  let failure: Error | undefined;
  for (const block of blocks) {
    let actual: string;
    try {
      actual = runBlock(interpreter, block, file);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      break;
    }
    if (options.rewrite) {
      rewritten.push({ block, actual });
      continue;
    }
    if (actual !== block.expected) {
      const commands = block.commands.map((c) => `  ${c.text}`).join('\n');
      const expectedLines = block.expected.split('\n');
      const actualLines = actual.split('\n');
      let first = 0;
      while (expectedLines[first] === actualLines[first]) first++;
      const firstLine = block.outStart + (block.wrapped ? 1 : 0) + first + 1;
      throw new ScriptFailure(
        `${file}:${firstLine}: output differs (- expected, + actual) in the block at line ${block.line}:\n` +
          `${commands}\n${lineDiff(block.expected, actual, 3)}`,
      );
    }
  }
  if (options.rewrite && rewritten.length > 0) {
    const lines = text.split('\n');
    // Splice from the last block backwards so earlier line numbers stay valid.
    for (let k = rewritten.length - 1; k >= 0; k--) {
      const { block, actual } = rewritten[k]!;
      lines.splice(block.outStart, block.outEnd - block.outStart, ...renderOutput(actual));
    }
    writeFileSync(path, lines.join('\n'));
  }
  if (failure !== undefined) throw failure;
}
