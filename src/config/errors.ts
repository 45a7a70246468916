// Configuration errors as data (a list of issues, each naming the setting, where its value came
// from and what was wrong) and, separately, their formatting for people.

/** Where a value came from. */
/** `option`: a setting passed in code to startNode(). */
export type ConfigSource = 'flag' | 'env' | 'file' | 'option' | 'default';

/** What kind of problem an issue reports. */
export type ConfigIssueCode =
  /** A YAML key, flag or `CONCLAVE_*` variable that is not a setting. */
  | 'unknown_setting'
  /** A value of the wrong type or form, or out of range. */
  | 'invalid_value'
  /** Settings that contradict each other. */
  | 'conflict'
  /** A required value is missing. */
  | 'missing_value'
  /** The config file or the secret file cannot be read. */
  | 'unreadable_file'
  /** The config file is not valid YAML, or is not a map of settings. */
  | 'invalid_file';

export interface ConfigIssue {
  readonly code: ConfigIssueCode;
  /**
   * The setting (its YAML key, e.g. `election-timeout`), or for an unknown setting the name as
   * written (`clustr-name`, `--clustr-name`, `CONCLAVE_CLUSTR_NAME`). Problems with the config
   * file itself have the key `config-file`.
   */
  readonly key: string;
  readonly source: ConfigSource;
  /**
   * `/etc/conclave.yaml:12` (file), `CONCLAVE_LISTEN` (env), `--listen` (flag); for the default
   * source `default`, or `not set` when a value is missing.
   */
  readonly sourceDetail: string;
  /** What was expected and what was given. Never contains the secret. */
  readonly message: string;
}

export const CONFIG_INVALID = 'CONFIG_INVALID';

/** The node configuration is invalid; `issues` lists every problem found, not only the first. */
export class ConfigError extends Error {
  /** Stable, for `err.code === 'CONFIG_INVALID'` checks (the message may change). */
  readonly code = CONFIG_INVALID;
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(formatIssues(issues));
    this.issues = issues;
  }
}

/** A multi-line message for people: one entry per issue, naming the key and where it came from. */
export function formatConfigError(err: ConfigError): string {
  return formatIssues(err.issues);
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  const head = `invalid configuration: ${n} ${n === 1 ? 'problem' : 'problems'}`;
  return [head, ...issues.map((issue) => `  - ${issue.key} (${where(issue)}): ${issue.message}`)].join('\n');
}

function where(issue: ConfigIssue): string {
  if (issue.source === 'default') return issue.sourceDetail;
  return `${issue.source} ${issue.sourceDetail}`;
}
