// Parser for Jepsen's text log: only lines containing "jepsen.util - " matter; after the marker
// come PROCESS TYPE F VALUE separated by tabs or spaces, VALUE being EDN (and may hold spaces,
// as in "[3 0]").

import { EdnSyntaxError, readEdn, type EdnValue } from './edn.js';
import { ednEventType, ednKeywordName, ednProcess, ednToEventValue } from './edn-events.js';
import { HistoryParseError } from './errors.js';
import type { HistoryEvent } from './events.js';

export const JEPSEN_MARKER = 'jepsen.util - ';

const FIELDS = /^\s*(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/;

function read(text: string, what: string, line: number): EdnValue {
  try {
    return readEdn(text);
  } catch (err) {
    if (err instanceof EdnSyntaxError) {
      throw new HistoryParseError(`cannot read ${what} ${JSON.stringify(text)}: ${err.reason}`, line);
    }
    throw err;
  }
}

/** Events of a Jepsen log, in log order. Lines of keyword processes (`:nemesis`) are skipped. */
export function parseJepsenLog(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const at = raw.indexOf(JEPSEN_MARKER);
    if (at < 0) continue;
    const line = i + 1;
    const m = FIELDS.exec(raw.slice(at + JEPSEN_MARKER.length));
    if (!m)
      throw new HistoryParseError(`expected "PROCESS TYPE F VALUE" after "${JEPSEN_MARKER.trim()}"`, line);
    const process = ednProcess(read(m[1]!, 'process', line), line);
    if (process === undefined) continue;
    const type = ednEventType(read(m[2]!, 'type', line), line);
    const f = ednKeywordName(read(m[3]!, 'f', line), 'f', line);
    const value = m[4] === undefined || m[4] === '' ? null : ednToEventValue(read(m[4], 'value', line), line);
    events.push({ process, type, f, value, line });
  }
  return events;
}
