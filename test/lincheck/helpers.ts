// Shared helpers for the lincheck tests.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Operation } from '../../src/lincheck/index.js';

/** The repository root (this file is test/lincheck/helpers.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The shared linearizability corpus lives next to the repository: <repo>/../shared/linearizability.
 * CONCLAVE_LINCHECK_CORPUS overrides the location.
 */
export const CORPUS_DIR =
  process.env.CONCLAVE_LINCHECK_CORPUS ?? resolve(REPO_ROOT, '../shared/linearizability');

export function requireCorpus(): string {
  if (!existsSync(resolve(CORPUS_DIR, 'README.md'))) {
    throw new Error(
      `linearizability corpus not found at ${CORPUS_DIR}; ` +
        'set CONCLAVE_LINCHECK_CORPUS to the directory holding jepsen-etcd/ and kv/',
    );
  }
  return CORPUS_DIR;
}

/** An operation; leave `ret` out for an unknown outcome (then `output` should be undefined). */
export function op<I, O>(
  clientId: number,
  input: I,
  output: O | undefined,
  call: number,
  ret = Infinity,
): Operation<I, O> {
  return { clientId, input, output, call, return: ret };
}
