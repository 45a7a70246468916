// The cluster secret: from `secret` or `secret-file` (never both from one source), read and
// checked. Messages describe the secret (its length, where it came from), never its value.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigIssue } from './errors.js';
import type { SettingKey } from './settings.js';
import { fileErrorReason } from './sources.js';
import type { Resolved, ResolvedSettings } from './types.js';

export const MIN_SECRET_LENGTH = 16;

const RANK = { option: -1, flag: 0, env: 1, file: 2, default: 3 } as const;

export type SecretResolution =
  | { readonly state: 'set'; readonly secret: Resolved<string> }
  | { readonly state: 'none' }
  /** A problem was reported; whether a secret exists is unknown. */
  | { readonly state: 'invalid' };

/**
 * `secret` and `secret-file` are two spellings of one setting: the one from the higher-precedence
 * source wins; both from the same source is a conflict.
 */
export function resolveSecret(
  settings: ResolvedSettings,
  failed: ReadonlySet<SettingKey>,
  cwd: string,
  issues: ConfigIssue[],
): SecretResolution {
  if (failed.has('secret') || failed.has('secret-file')) return { state: 'invalid' };
  const inline = settings.secret;
  const file = settings['secret-file'];
  if (inline !== undefined && file !== undefined && RANK[inline.source] === RANK[file.source]) {
    issues.push({
      code: 'conflict',
      key: 'secret',
      source: inline.source,
      sourceDetail: `${inline.detail} and ${file.detail}`,
      message: 'secret and secret-file are exclusive (two ways to give one secret); give only one of them',
    });
    return { state: 'invalid' };
  }
  if (file !== undefined && (inline === undefined || RANK[file.source] < RANK[inline.source])) {
    const path = resolve(cwd, file.value);
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (err) {
      issues.push({
        code: 'unreadable_file',
        key: 'secret-file',
        source: file.source,
        sourceDetail: file.detail,
        message: `cannot read the secret file ${path}: ${fileErrorReason(err)}`,
      });
      return { state: 'invalid' };
    }
    const secret = content.replace(/[\r\n]+$/, '');
    return checked('secret-file', { ...file, value: secret }, `the secret in ${path}`, issues);
  }
  if (inline !== undefined) return checked('secret', inline, 'the secret', issues);
  return { state: 'none' };
}

function checked(
  key: 'secret' | 'secret-file',
  secret: Resolved<string>,
  what: string,
  issues: ConfigIssue[],
): SecretResolution {
  const problems: string[] = [];
  const length = Array.from(secret.value).length; // code points
  if (length < MIN_SECRET_LENGTH) {
    problems.push(`expected a secret of at least ${MIN_SECRET_LENGTH} characters, ${what} has ${length}`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(secret.value)) {
    problems.push(
      `expected a single line of printable characters, ${what} contains a control character (a tab or a line break inside it?)`,
    );
  }
  for (const message of problems) {
    issues.push({ code: 'invalid_value', key, source: secret.source, sourceDetail: secret.detail, message });
  }
  return problems.length > 0 ? { state: 'invalid' } : { state: 'set', secret };
}
