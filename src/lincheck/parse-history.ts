// Format detection for history files.

import { HistoryParseError } from './errors.js';
import type { HistoryEvent } from './events.js';
import { parseKvEdn } from './parse-edn.js';
import { JEPSEN_MARKER, parseJepsenLog } from './parse-jepsen.js';
import { parseJsonLines } from './parse-jsonl.js';

export type HistoryFormat = 'jepsen' | 'edn' | 'jsonl';

/**
 * A Jepsen log has lines containing "jepsen.util - " (other log lines are allowed); otherwise the
 * first non-blank line decides: "{:" is EDN, "{\"" (or "{}") is JSON lines.
 */
export function detectFormat(text: string): HistoryFormat {
  if (text.includes(JEPSEN_MARKER)) return 'jepsen';
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim() !== '');
  if (i < 0) throw new HistoryParseError('empty history');
  const first = lines[i]!.trim();
  const afterBrace = first.startsWith('{') ? first.slice(1).trimStart() : '';
  if (afterBrace.startsWith(':')) return 'edn';
  if (afterBrace.startsWith('"') || afterBrace.startsWith('}')) return 'jsonl';
  throw new HistoryParseError(
    'unrecognized history format: expected a Jepsen log (lines with "jepsen.util - "), EDN maps ' +
      '({:process 0, :type :invoke, ...}) or JSON lines ({"process": 0, "type": "invoke", ...})',
    i + 1,
  );
}

/** Detects the format and parses. Throws HistoryParseError, also when there are no events. */
export function parseHistory(text: string): { format: HistoryFormat; events: HistoryEvent[] } {
  const format = detectFormat(text);
  const events =
    format === 'jepsen' ? parseJepsenLog(text) : format === 'edn' ? parseKvEdn(text) : parseJsonLines(text);
  if (events.length === 0) throw new HistoryParseError(`no operations found in the ${format} history`);
  return { format, events };
}
