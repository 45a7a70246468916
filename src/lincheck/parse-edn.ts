// Parser for EDN histories, one map per line:
//   {:process 0, :type :invoke, :f :append, :key "3", :value "x 0 1 y"}
// Other keys (:time, :index, ...) are ignored. Blank lines and ";" comment lines are skipped.

import { EdnMap, EdnSyntaxError, readEdn, type EdnValue } from './edn.js';
import { ednEventType, ednKeywordName, ednProcess, ednToEventValue, showEdn } from './edn-events.js';
import { HistoryParseError } from './errors.js';
import type { HistoryEvent } from './events.js';

function ednKey(value: EdnValue | undefined, line: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  throw new HistoryParseError(`bad key ${showEdn(value)} (expected a string or an integer)`, line);
}

/** Events of an EDN history, in file order. Lines of keyword processes (`:nemesis`) are skipped. */
export function parseKvEdn(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';')) continue;
    const line = i + 1;
    let form: EdnValue;
    try {
      form = readEdn(trimmed);
    } catch (err) {
      if (err instanceof EdnSyntaxError) throw new HistoryParseError(`invalid EDN: ${err.message}`, line);
      throw err;
    }
    if (!(form instanceof EdnMap))
      throw new HistoryParseError('expected an EDN map {:process ... :type ...}', line);
    const process = ednProcess(form.get('process'), line);
    if (process === undefined) continue;
    const type = ednEventType(form.get('type'), line);
    const f = ednKeywordName(form.get('f'), ':f', line);
    const key = ednKey(form.get('key'), line);
    const value = ednToEventValue(form.get('value') ?? null, line);
    events.push(
      key === undefined ? { process, type, f, value, line } : { process, type, f, key, value, line },
    );
  }
  return events;
}
