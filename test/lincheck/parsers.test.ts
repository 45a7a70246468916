import { describe, expect, it } from 'vitest';
import { readEdn, EdnKeyword, EdnMap, EdnSymbol } from '../../src/lincheck/edn.js';
import {
  checkEvents,
  detectFormat,
  eventsToOperations,
  HISTORY_PARSE_ERROR,
  HistoryParseError,
  parseHistory,
  parseJepsenLog,
  parseJsonLines,
  parseKvEdn,
  type HistoryEvent,
} from '../../src/lincheck/index.js';

/** Runs `fn`, expecting a HistoryParseError; returns it. */
function parseError(fn: () => unknown): HistoryParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HistoryParseError);
    return err as HistoryParseError;
  }
  throw new Error('expected a HistoryParseError');
}

describe('lincheck - EDN reader', () => {
  it('reads scalars, keywords, symbols, vectors and maps', () => {
    expect(readEdn('nil')).toBeNull();
    expect(readEdn(' 42 ')).toBe(42);
    expect(readEdn('-3')).toBe(-3);
    expect(readEdn('1.5')).toBe(1.5);
    expect(readEdn('true')).toBe(true);
    expect(readEdn('"a \\"b\\"\\n\\u0041"')).toBe('a "b"\nA');
    expect(readEdn(':timed-out')).toEqual(new EdnKeyword('timed-out'));
    expect(readEdn('foo')).toEqual(new EdnSymbol('foo'));
    expect(readEdn('[3 0]')).toEqual([3, 0]);
    const m = readEdn('{:process 1, :value [nil "x"]} ; comment');
    expect(m).toBeInstanceOf(EdnMap);
    expect((m as EdnMap).get('process')).toBe(1);
    expect((m as EdnMap).get('value')).toEqual([null, 'x']);
    expect((m as EdnMap).get('absent')).toBeUndefined();
  });

  it('rejects malformed input with a position', () => {
    expect(() => readEdn('[1 2')).toThrow(/unclosed '\[' at column 1/);
    expect(() => readEdn('{:a}')).toThrow(/even number/);
    expect(() => readEdn('"abc')).toThrow(/unterminated string/);
    expect(() => readEdn('#{1}')).toThrow(/not supported/);
    expect(() => readEdn('1 2')).toThrow(/after the value at column 3/);
    expect(() => readEdn('12ab')).toThrow(/malformed number/);
    expect(() => readEdn('')).toThrow(/end of input/);
  });
});

describe('lincheck - Jepsen log parser', () => {
  it('reads tab- and space-separated lines, skipping other lines and the nemesis', () => {
    const log = [
      '2017-01-01 INFO  jepsen.core - starting',
      'INFO  jepsen.util - 0\t:invoke\t:cas\t[3 0]',
      'INFO  jepsen.util - :nemesis\t:info\t:start\tnil',
      'INFO  jepsen.util - 0   :fail   :cas    [3 0]',
      'INFO  jepsen.util - 1\t:invoke\t:read\tnil',
      'INFO  jepsen.util - 1\t:info\t:read\t:timed-out',
    ].join('\n');
    expect(parseJepsenLog(log)).toEqual([
      { process: 0, type: 'invoke', f: 'cas', value: [3, 0], line: 2 },
      { process: 0, type: 'fail', f: 'cas', value: [3, 0], line: 4 },
      { process: 1, type: 'invoke', f: 'read', value: null, line: 5 },
      { process: 1, type: 'info', f: 'read', value: ':timed-out', line: 6 },
    ]);
  });

  it('names the line of a malformed entry', () => {
    const e = parseError(() => parseJepsenLog('x\nINFO  jepsen.util - 0\t:invoke\t:cas\t[3 0'));
    expect(e.line).toBe(2);
    expect(e.code).toBe(HISTORY_PARSE_ERROR);
    expect(e.message).toMatch(/^line 2: cannot read value/);
    expect(parseError(() => parseJepsenLog('INFO  jepsen.util - 0\t:begin\t:read\tnil')).message).toMatch(
      /line 1: bad type :begin/,
    );
    expect(parseError(() => parseJepsenLog('INFO  jepsen.util - zero\t:invoke\t:read\tnil')).message).toMatch(
      /bad process/,
    );
  });
});

describe('lincheck - EDN history parser', () => {
  it('reads maps with keys, ignoring extra fields and blank lines', () => {
    const text = [
      '{:process 3, :type :invoke, :f :append, :key "7", :value "x 3 0 y", :time 12}',
      '',
      '{:process 3, :type :ok, :f :append, :key "7", :value "x 3 0 y"}',
      '{:process 4, :type :invoke, :f :get, :key 8, :value nil}',
    ].join('\n');
    expect(parseKvEdn(text)).toEqual([
      { process: 3, type: 'invoke', f: 'append', key: '7', value: 'x 3 0 y', line: 1 },
      { process: 3, type: 'ok', f: 'append', key: '7', value: 'x 3 0 y', line: 3 },
      { process: 4, type: 'invoke', f: 'get', key: '8', value: null, line: 4 },
    ]);
  });

  it('names the line and the problem', () => {
    expect(parseError(() => parseKvEdn('{:process 1, :type :invoke, :f :get}\n[1 2]')).message).toBe(
      'line 2: expected an EDN map {:process ... :type ...}',
    );
    expect(parseError(() => parseKvEdn('{:process 1, :type :invoke, :f :get')).message).toMatch(
      /line 1: invalid EDN/,
    );
    expect(parseError(() => parseKvEdn('{:process 1, :type :invoke}')).message).toMatch(
      /line 1: bad :f \(missing\)/,
    );
  });
});

describe('lincheck - JSON-lines parser', () => {
  it('reads objects, with optional key and value', () => {
    const text = [
      '{"process": 0, "type": "invoke", "f": "cas", "key": "a", "value": [1, 2]}',
      '{"process": "c1", "type": "invoke", "f": "read"}',
      '',
      '{"process": 0, "type": "fail", "f": "cas", "key": 5, "value": [1, 2]}',
    ].join('\n');
    expect(parseJsonLines(text)).toEqual([
      { process: 0, type: 'invoke', f: 'cas', key: 'a', value: [1, 2], line: 1 },
      { process: 'c1', type: 'invoke', f: 'read', value: null, line: 2 },
      { process: 0, type: 'fail', f: 'cas', key: '5', value: [1, 2], line: 4 },
    ]);
  });

  it('names the line and the problem', () => {
    const ok = '{"process": 0, "type": "invoke", "f": "read"}\n';
    expect(parseError(() => parseJsonLines(`${ok}{"process": 0,`)).message).toMatch(/^line 2: invalid JSON/);
    expect(parseError(() => parseJsonLines(`${ok}[1]`)).message).toMatch(/^line 2: expected a JSON object/);
    expect(parseError(() => parseJsonLines('{"process": 0, "type": "done", "f": "read"}')).message).toMatch(
      /^line 1: bad "type" "done"/,
    );
    expect(parseError(() => parseJsonLines('{"process": 1.5, "type": "ok", "f": "read"}')).message).toMatch(
      /bad "process"/,
    );
    expect(
      parseError(() => parseJsonLines('{"process": 1, "type": "ok", "f": "read", "value": true}')).message,
    ).toMatch(/unsupported value true/);
  });
});

describe('lincheck - format detection', () => {
  it('recognizes the three formats', () => {
    expect(detectFormat('junk\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n')).toBe('jepsen');
    expect(detectFormat('\n  {:process 0, :type :invoke, :f :read}')).toBe('edn');
    expect(detectFormat('{"process": 0, "type": "invoke", "f": "read"}')).toBe('jsonl');
  });

  it('rejects anything else, and empty histories', () => {
    expect(parseError(() => detectFormat('\n\nhello')).message).toMatch(
      /^line 3: unrecognized history format/,
    );
    expect(parseError(() => parseHistory('  \n')).message).toBe('empty history');
    expect(
      parseError(() => parseHistory('INFO  jepsen.util - :nemesis\t:info\t:start\tnil')).message,
    ).toMatch(/no operations/);
  });
});

describe('lincheck - pairing events into operations', () => {
  const ev = (
    process: number,
    type: HistoryEvent['type'],
    f: string,
    value: HistoryEvent['value'] = null,
    line?: number,
  ): HistoryEvent => (line === undefined ? { process, type, f, value } : { process, type, f, value, line });

  it('keeps ok operations, drops failures, and leaves info and unfinished ones open', () => {
    const ops = eventsToOperations([
      ev(0, 'invoke', 'write', 1),
      ev(1, 'invoke', 'cas', [1, 2]),
      ev(0, 'ok', 'write', 1),
      ev(1, 'fail', 'cas', [1, 2]),
      ev(2, 'invoke', 'write', 3),
      ev(3, 'invoke', 'read'),
      ev(2, 'info', 'write', ':timed-out'),
      ev(3, 'ok', 'read', 1),
      ev(4, 'invoke', 'cas', [1, 5]),
      ev(5, 'invoke', 'read'),
      ev(5, 'info', 'read'),
    ]);
    expect(ops).toEqual([
      { clientId: 0, input: { f: 'write', value: 1 }, output: true, call: 0, return: 2 },
      { clientId: 2, input: { f: 'write', value: 3 }, output: undefined, call: 4, return: Infinity },
      { clientId: 3, input: { f: 'read' }, output: 1, call: 5, return: 7 },
      { clientId: 4, input: { f: 'cas', from: 1, to: 5 }, output: undefined, call: 8, return: Infinity },
    ]);
  });

  it('rejects events that do not pair up, naming the line', () => {
    expect(parseError(() => eventsToOperations([ev(0, 'ok', 'read', 1, 7)])).message).toBe(
      'line 7: :ok of process 0 without a pending invocation',
    );
    expect(
      parseError(() =>
        eventsToOperations([ev(0, 'invoke', 'read', null, 1), ev(0, 'invoke', 'read', null, 2)]),
      ).message,
    ).toBe('line 2: process 0 invokes :read while its :read (line 1) is still pending');
    expect(
      parseError(() => eventsToOperations([ev(0, 'invoke', 'read', null, 1), ev(0, 'ok', 'write', 1, 2)]))
        .message,
    ).toMatch(/^line 2: :ok :write does not match the pending :invoke :read \(line 1\)/);
    expect(parseError(() => eventsToOperations([ev(0, 'invoke', 'delete', null, 3)])).message).toMatch(
      /^line 3: unsupported operation :delete/,
    );
    expect(parseError(() => eventsToOperations([ev(0, 'invoke', 'cas', 1, 4)])).message).toMatch(
      /^line 4: a :cas value must be \[FROM TO\]/,
    );
  });

  it('checks JSON-lines histories with per-key registers and with kv operations', () => {
    const lines = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n');
    const registers = lines([
      { process: 0, type: 'invoke', f: 'write', key: 'a', value: 1 },
      { process: 1, type: 'invoke', f: 'write', key: 'b', value: 2 },
      { process: 0, type: 'ok', f: 'write', key: 'a', value: 1 },
      { process: 1, type: 'ok', f: 'write', key: 'b', value: 2 },
      { process: 0, type: 'invoke', f: 'read', key: 'a' },
      { process: 0, type: 'ok', f: 'read', key: 'a', value: 1 },
      { process: 0, type: 'invoke', f: 'read', key: 'b' },
    ]);
    expect(checkEvents(parseHistory(registers).events)).toMatchObject({ result: 'ok', partitions: 2 });
    const stale = `${registers}\n${JSON.stringify({ process: 0, type: 'ok', f: 'read', key: 'b', value: null })}`;
    expect(checkEvents(parseHistory(stale).events).result).toBe('illegal');
    const kv = lines([
      { process: 0, type: 'invoke', f: 'put', key: 'k', value: 'a' },
      { process: 0, type: 'ok', f: 'put', key: 'k', value: 'a' },
      { process: 0, type: 'invoke', f: 'append', key: 'k', value: 'b' },
      { process: 0, type: 'info', f: 'append', key: 'k' },
      { process: 1, type: 'invoke', f: 'get', key: 'k' },
      { process: 1, type: 'ok', f: 'get', key: 'k', value: 'ab' },
    ]);
    expect(checkEvents(parseHistory(kv).events).result).toBe('ok');
  });
});
