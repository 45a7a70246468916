// Parser for JSON-lines histories, one object per line:
//   {"process": 0, "type": "invoke", "f": "cas", "key": "a", "value": [1, 2]}
// `key` is optional (absent or null: a single register); `value` defaults to null. Other
// fields are ignored. Blank lines are skipped.

import { HistoryParseError } from './errors.js';
import { isEventType, type EventValue, type HistoryEvent } from './events.js';

function eventValue(value: unknown, line: number): EventValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => eventValue(v, line));
  throw new HistoryParseError(
    `unsupported value ${JSON.stringify(value)} (expected null, a number, a string or an array)`,
    line,
  );
}

/** Events of a JSON-lines history, in file order. */
export function parseJsonLines(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new HistoryParseError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`, line);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new HistoryParseError('expected a JSON object {"process": ..., "type": ..., "f": ...}', line);
    }
    const { process, type, f, key, value } = obj as Record<string, unknown>;
    if (!(typeof process === 'string' || (typeof process === 'number' && Number.isInteger(process)))) {
      throw new HistoryParseError(
        `bad "process" ${JSON.stringify(process)} (expected an integer or a string)`,
        line,
      );
    }
    if (typeof type !== 'string' || !isEventType(type)) {
      throw new HistoryParseError(
        `bad "type" ${JSON.stringify(type)} (expected invoke, ok, fail or info)`,
        line,
      );
    }
    if (typeof f !== 'string' || f === '') {
      throw new HistoryParseError(`bad "f" ${JSON.stringify(f)} (expected a non-empty string)`, line);
    }
    const v = eventValue(value ?? null, line);
    if (key === undefined || key === null) {
      events.push({ process, type, f, value: v, line });
    } else if (typeof key === 'string' || (typeof key === 'number' && Number.isInteger(key))) {
      events.push({ process, type, f, key: String(key), value: v, line });
    } else {
      throw new HistoryParseError(`bad "key" ${JSON.stringify(key)} (expected a string or an integer)`, line);
    }
  }
  return events;
}
