// The three readers of raw setting values: command-line flags, CONCLAVE_* environment variables
// and the YAML config file. They check names and syntax only; values are validated in load.ts.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { ConfigIssue } from './errors.js';
import { show } from './parsed.js';
import {
  CONFIG_FILE_ENV,
  CONFIG_FILE_FLAG,
  envOf,
  FOREIGN_ENV_VARS,
  isSettingKey,
  SETTINGS,
  settingSpec,
  type SettingKey,
} from './settings.js';
import { suggestSetting } from './suggest.js';

/** A value as given, before validation. */
export interface RawValue {
  readonly key: SettingKey;
  /** A string from flags and the environment; any YAML value from the file. */
  readonly value: unknown;
  readonly source: 'flag' | 'env' | 'file';
  /** `--listen`, `CONCLAVE_LISTEN` or `/path/conclave.yaml:3`. */
  readonly detail: string;
}

/** Where the config file's path was given. */
export interface ConfigFileRef {
  readonly path: string;
  readonly source: 'flag' | 'env';
  readonly detail: string;
}

export interface SourceReading {
  readonly values: readonly RawValue[];
  readonly issues: readonly ConfigIssue[];
  readonly configFile: ConfigFileRef | undefined;
}

export interface FlagReading extends SourceReading {
  /** `--help` or `-h` was given. */
  readonly help: boolean;
}

const SEE_HELP = 'the settings are listed by `conclave server --help` and in docs/CONFIG.md';

// --- flags -------------------------------------------------------------------------------------

/** Reads `--key value` and `--key=value` flags (the arguments after `server`). */
export function readFlags(argv: readonly string[]): FlagReading {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    'config-file': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h', multiple: true },
  };
  for (const s of SETTINGS) options[s.key] = { type: 'string', multiple: true };
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const values: RawValue[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  const reportedIndexes = new Set<number>();
  let configFile: ConfigFileRef | undefined;
  let help = false;
  let unknownTakesNext = -1; // index of an argument that is probably the value of an unknown flag
  const issue = (code: ConfigIssue['code'], key: string, detail: string, message: string) =>
    issues.push({ code, key, source: 'flag', sourceDetail: detail, message });

  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (token.index !== unknownTakesNext) {
        issue('invalid_value', token.value, `argument ${token.index + 1}`, unexpectedArgument(token.value));
      }
      continue;
    }
    const raw = token.rawName;
    if (token.name === 'help') {
      if (token.value !== undefined)
        issue('invalid_value', raw, raw, `${raw} takes no value, got ${show(token.value)}`);
      help = true;
      continue;
    }
    const isConfigFile = token.name === 'config-file';
    if (!isConfigFile && !isSettingKey(token.name)) {
      if (reportedIndexes.has(token.index)) continue;
      reportedIndexes.add(token.index);
      const written = argv[token.index] ?? raw;
      const flag = written.split('=')[0] ?? written;
      issue('unknown_setting', flag, flag, unknownFlag(flag));
      if (!token.inlineValue && flag.startsWith('--')) unknownTakesNext = token.index + 1;
      continue;
    }
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      const next = token.value === undefined ? '' : ` (the next argument ${show(token.value)} is a flag)`;
      issue(
        'missing_value',
        token.name,
        raw,
        `expected a value after ${raw}${next}; write ${raw} <value> or ${raw}=<value>`,
      );
      continue;
    }
    const before = seen.get(token.name);
    const repeatable = !isConfigFile && isSettingKey(token.name) && settingSpec(token.name).repeatable;
    if (before !== undefined && !repeatable) {
      issue(
        'conflict',
        token.name,
        raw,
        `given more than once (${raw} ${shownFlagValue(token.name, before)}, then ${raw} ${shownFlagValue(token.name, token.value)}); give it once`,
      );
      continue;
    }
    seen.set(token.name, token.value);
    if (isConfigFile) configFile = { path: token.value, source: 'flag', detail: CONFIG_FILE_FLAG };
    else if (isSettingKey(token.name))
      values.push({ key: token.name, value: token.value, source: 'flag', detail: raw });
  }
  return { values: mergeRepeated(values), issues, configFile, help };
}

/** A repeated flag (join) becomes one list value. */
function mergeRepeated(values: readonly RawValue[]): RawValue[] {
  const out: RawValue[] = [];
  for (const v of values) {
    const i = out.findIndex((o) => o.key === v.key);
    const prev = out[i];
    if (prev === undefined) out.push(v);
    else out[i] = { ...prev, value: [prev.value, v.value].flat() };
  }
  return out;
}

function shownFlagValue(key: string, value: string): string {
  return key === 'secret' ? '<hidden>' : show(value);
}

function unexpectedArgument(value: string): string {
  return `unexpected argument ${show(value)}: settings are given as --key value or --key=value`;
}

function unknownFlag(flag: string): string {
  const s = suggestSetting(flag.replace(/^-+/, ''), ['config-file', 'help']);
  if (s === undefined) return `unknown flag; ${SEE_HELP}`;
  if (s.sameWords) return `unknown flag; flags are kebab-case: --${s.key}`;
  return `unknown flag; did you mean --${s.key}?`;
}

// --- environment -------------------------------------------------------------------------------

const ENV_TO_KEY = new Map<string, SettingKey>(SETTINGS.map((s) => [s.env, s.key]));

/**
 * Reads the CONCLAVE_* variables. An empty variable counts as not set (as templated environments
 * often pass them). Variables of other tools (FOREIGN_ENV_VARS) are ignored; any other unknown
 * CONCLAVE_* variable is an issue.
 */
export function readEnv(env: NodeJS.ProcessEnv): SourceReading {
  const values: RawValue[] = [];
  const issues: ConfigIssue[] = [];
  let configFile: ConfigFileRef | undefined;
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.toUpperCase().startsWith('CONCLAVE_') || value === undefined) continue;
    if (FOREIGN_ENV_VARS.includes(name)) continue;
    const key = ENV_TO_KEY.get(name);
    if (name === CONFIG_FILE_ENV) {
      if (value !== '') configFile = { path: value, source: 'env', detail: name };
    } else if (key !== undefined) {
      if (value !== '') values.push({ key, value, source: 'env', detail: name });
    } else {
      issues.push({
        code: 'unknown_setting',
        key: name,
        source: 'env',
        sourceDetail: name,
        message: unknownEnv(name),
      });
    }
  }
  return { values, issues, configFile };
}

function unknownEnv(name: string): string {
  const s = suggestSetting(name.replace(/^conclave_/i, ''), ['config-file']);
  const ignored = `(ignored ones, used by other tools: ${FOREIGN_ENV_VARS.join(', ')})`;
  if (s === undefined) return `unknown CONCLAVE_ variable; ${SEE_HELP} ${ignored}`;
  const env = s.key === 'config-file' ? CONFIG_FILE_ENV : envOf(s.key as SettingKey);
  if (s.sameWords) return `unknown CONCLAVE_ variable; environment variables are upper case: ${env}`;
  return `unknown CONCLAVE_ variable; did you mean ${env}?`;
}

// --- file --------------------------------------------------------------------------------------

/** Reads the YAML config file at `path` (absolute). `ref` says where its path was given. */
export function readConfigFile(path: string, ref: ConfigFileRef): SourceReading {
  const issues: ConfigIssue[] = [];
  const values: RawValue[] = [];
  const done = (): SourceReading => ({ values, issues, configFile: ref });
  const fileIssue = (code: ConfigIssue['code'], key: string, detail: string, message: string) =>
    issues.push({ code, key, source: 'file', sourceDetail: detail, message });

  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push({
      code: 'unreadable_file',
      key: 'config-file',
      source: ref.source,
      sourceDetail: ref.detail,
      message: `cannot read the config file ${path}: ${fileErrorReason(err)}`,
    });
    return done();
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, withColumn = false): string => {
    const { line, col } = lines.linePos(offset);
    return withColumn ? `${path}:${line}:${col}` : `${path}:${line}`;
  };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      fileIssue(
        'invalid_file',
        'config-file',
        at(e.pos[0], true),
        `not valid YAML at line ${line}, column ${col}: ${e.message}`,
      );
    }
    return done();
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return done(); // empty file
  if (!isMap(contents)) {
    const got = isScalar(contents) ? show(contents.value) : 'a list';
    fileIssue(
      'invalid_file',
      'config-file',
      at(contents.range[0]),
      `expected a map of settings (key: value lines), got ${got}`,
    );
    return done();
  }

  for (const pair of contents.items) {
    const keyNode = pair.key as YamlNode | null;
    const offset = keyNode?.range?.[0] ?? 0;
    const name = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof name !== 'string') {
      fileIssue(
        'unknown_setting',
        show(name ?? 'a complex key'),
        at(offset),
        `expected a setting name as key, got ${isScalar(keyNode) ? show(name) : 'a list or map'}`,
      );
      continue;
    }
    if (!isSettingKey(name)) {
      fileIssue('unknown_setting', name, at(offset), unknownYamlKey(name));
      continue;
    }
    const valueNode = pair.value as YamlNode | null;
    if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) continue; // `key:` = not set
    let value: unknown;
    try {
      value = valueNode.toJS(doc);
    } catch (err) {
      fileIssue(
        'invalid_file',
        name,
        at(valueNode.range?.[0] ?? offset),
        `cannot read the value: ${err instanceof Error ? err.message : String(err)}`,
      );
      continue;
    }
    values.push({ key: name, value, source: 'file', detail: at(offset) });
  }
  return done();
}

function unknownYamlKey(name: string): string {
  if (name === 'config-file') {
    return `the config file cannot name itself; give it with ${CONFIG_FILE_FLAG} or ${CONFIG_FILE_ENV}`;
  }
  const s = suggestSetting(name.replace(/^conclave_/i, ''));
  if (s === undefined) return `unknown setting; ${SEE_HELP}`;
  if (s.sameWords) return `unknown setting; YAML keys are kebab-case: write \`${s.key}\``;
  return `unknown setting; did you mean \`${s.key}\`?`;
}

/** A short reason for a failed read: "file not found", "permission denied", ... */
export function fileErrorReason(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory, not a file';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
