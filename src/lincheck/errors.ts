// The one error type for malformed history input, with a stable code for programmatic handling.

export const HISTORY_PARSE_ERROR = 'HISTORY_PARSE_ERROR';

/**
 * A history file or event list could not be understood. `line` is the 1-based source line at
 * fault when there is one; the message always says what was wrong ("line 12: ...").
 */
export class HistoryParseError extends Error {
  /** Stable, for `err.code === 'HISTORY_PARSE_ERROR'` checks (the message may change). */
  readonly code = HISTORY_PARSE_ERROR;
  override readonly name = 'HistoryParseError';

  constructor(
    /** What was wrong, without the line prefix. */
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line === undefined ? reason : `line ${line}: ${reason}`);
  }
}
