// Real temporary directories and files for the config tests, and a loader that returns issues.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { ConfigError, loadNodeConfig, type ConfigIssue, type NodeConfig } from '../../src/config/index.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-config-'));
  dirs.push(dir);
  return dir;
}

/** Writes `text` to `name` in `dir` and returns its absolute path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export interface LoadInput {
  readonly argv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** YAML text of conclave.yaml, written to cwd and passed with --config-file. */
  readonly yaml?: string;
  readonly cwd?: string;
}

function options(input: LoadInput): { argv: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  const cwd = input.cwd ?? tempDir();
  const argv = [...(input.argv ?? [])];
  if (input.yaml !== undefined) {
    writeFile(cwd, 'conclave.yaml', input.yaml);
    argv.push('--config-file', 'conclave.yaml');
  }
  return { argv, env: input.env ?? {}, cwd };
}

export function load(input: LoadInput = {}): NodeConfig {
  return loadNodeConfig(options(input));
}

/** The error thrown by loading `input`; fails the test if loading succeeds. */
export function loadError(input: LoadInput): ConfigError {
  try {
    loadNodeConfig(options(input));
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

export function issues(input: LoadInput): readonly ConfigIssue[] {
  return loadError(input).issues;
}

/** The only issue for `key`; fails if there is none or more than one. */
export function issueFor(all: readonly ConfigIssue[], key: string): ConfigIssue {
  const found = all.filter((i) => i.key === key);
  if (found.length !== 1) {
    throw new Error(`expected one issue for ${key}, got ${found.length}: ${JSON.stringify(all, null, 2)}`);
  }
  return found[0]!;
}

export const SECRET = 'correct-horse-battery-staple';
