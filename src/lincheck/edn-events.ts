// Conversions from EDN values to event fields, shared by the Jepsen-log and EDN parsers.

import { EdnKeyword, EdnMap, EdnSymbol, isEdnVector, type EdnValue } from './edn.js';
import { HistoryParseError } from './errors.js';
import { isEventType, type EventType, type EventValue } from './events.js';

/** Names a value in an error message. */
export function showEdn(value: EdnValue): string {
  if (value === null) return 'nil';
  if (isEdnVector(value)) return `[${value.map(showEdn).join(' ')}]`;
  if (value instanceof EdnMap) return '{...}';
  if (value instanceof EdnKeyword || value instanceof EdnSymbol) return value.toString();
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Keywords become ":name" strings and symbols their name; maps and booleans are rejected. */
export function ednToEventValue(value: EdnValue, line: number): EventValue {
  if (value === null || typeof value === 'number' || typeof value === 'string') return value;
  if (value instanceof EdnKeyword) return `:${value.name}`;
  if (value instanceof EdnSymbol) return value.name;
  if (isEdnVector(value)) return value.map((v) => ednToEventValue(v, line));
  throw new HistoryParseError(
    `unsupported value ${showEdn(value)} (expected nil, a number, a string or a vector)`,
    line,
  );
}

export function ednEventType(value: EdnValue | undefined, line: number): EventType {
  if (value instanceof EdnKeyword && isEventType(value.name)) return value.name;
  throw new HistoryParseError(
    `bad type ${value === undefined ? '(missing)' : showEdn(value)} (expected :invoke, :ok, :fail or :info)`,
    line,
  );
}

export function ednKeywordName(value: EdnValue | undefined, field: string, line: number): string {
  if (value instanceof EdnKeyword) return value.name;
  throw new HistoryParseError(
    `bad ${field} ${value === undefined ? '(missing)' : showEdn(value)} (expected a keyword)`,
    line,
  );
}

/**
 * A client process: an integer. Returns undefined for a keyword process such as `:nemesis`,
 * whose lines are fault-injection events rather than client operations and are skipped.
 */
export function ednProcess(value: EdnValue | undefined, line: number): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (value instanceof EdnKeyword) return undefined;
  throw new HistoryParseError(
    `bad process ${value === undefined ? '(missing)' : showEdn(value)} (expected an integer)`,
    line,
  );
}
