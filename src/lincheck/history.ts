// From events to operations: pairs each invocation with its completion and picks the model.

import { checkOperations } from './check.js';
import { HistoryParseError } from './errors.js';
import type { EventValue, HistoryEvent } from './events.js';
import { kvModel, type KvInput, type KvOutput } from './kv-model.js';
import type { CheckOptions, CheckResult, Operation } from './model.js';
import {
  registerModel,
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
} from './register-model.js';

export type HistoryOperation = Operation<KvInput, KvOutput>;

const SUPPORTED = ['read', 'write', 'cas', 'get', 'put', 'append'] as const;
type SupportedF = (typeof SUPPORTED)[number];
const isSupported = (f: string): f is SupportedF => (SUPPORTED as readonly string[]).includes(f);

const show = (v: EventValue): string => (v === null ? 'nil' : JSON.stringify(v));

function scalar(value: EventValue, what: string, line: number | undefined): RegisterValue {
  if (value === null || typeof value === 'number' || typeof value === 'string') return value;
  throw new HistoryParseError(`${what} must be nil, a number or a string, got ${show(value)}`, line);
}

function text(value: EventValue, what: string, line: number | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new HistoryParseError(`${what} must be a string, got ${show(value)}`, line);
}

/** The operation's input, from its invoke event. */
function inputOf(ev: HistoryEvent, f: SupportedF): KvInput {
  const on = ev.key === undefined ? {} : { key: ev.key };
  switch (f) {
    case 'read':
    case 'get':
      return { f, ...on };
    case 'write':
      return { f, value: scalar(ev.value, 'a :write value', ev.line), ...on };
    case 'put':
    case 'append':
      return { f, value: text(ev.value, `a :${f} value`, ev.line), ...on };
    case 'cas': {
      const v = ev.value;
      if (!Array.isArray(v) || v.length !== 2) {
        throw new HistoryParseError(`a :cas value must be [FROM TO], got ${show(v)}`, ev.line);
      }
      const pair: readonly EventValue[] = v;
      return {
        f,
        from: scalar(pair[0]!, 'cas FROM', ev.line),
        to: scalar(pair[1]!, 'cas TO', ev.line),
        ...on,
      };
    }
  }
}

/** The output of an operation that completed `:ok`. */
function outputOf(ev: HistoryEvent, f: SupportedF): KvOutput {
  switch (f) {
    case 'read':
      return scalar(ev.value, 'the value of an :ok :read', ev.line);
    case 'get':
      // nil on a get means "absent", which a get reports as the empty string.
      return ev.value === null ? '' : text(ev.value, 'the value of an :ok :get', ev.line);
    default:
      return true;
  }
}

interface Pending {
  readonly event: HistoryEvent;
  readonly index: number;
  readonly input: KvInput;
  readonly f: SupportedF;
}

/**
 * Pairs invocations with completions. Time is the event's position in the list.
 * - `ok`: a completed operation.
 * - `fail`: it did not happen, so it is dropped (a failed cas did not happen either).
 * - `info`, or an invocation never completed: outcome unknown, return time +Infinity, output
 *   undefined. A read or get with unknown outcome constrains nothing and is dropped.
 * Throws HistoryParseError (naming the line) when the events do not pair up.
 */
export function eventsToOperations(events: readonly HistoryEvent[]): HistoryOperation[] {
  const ops: HistoryOperation[] = [];
  const pending = new Map<string, Pending>();
  const clientIds = new Map<string, number>();
  const clientId = (p: number | string, procKey: string): number => {
    if (typeof p === 'number') return p;
    let id = clientIds.get(procKey);
    if (id === undefined) {
      id = -1 - clientIds.size; // string processes get negative ids, apart from numeric ones
      clientIds.set(procKey, id);
    }
    return id;
  };
  const where = (ev: HistoryEvent): string => (ev.line === undefined ? '' : ` (line ${ev.line})`);
  const unknown = (p: Pending): void => {
    if (p.f === 'read' || p.f === 'get') return;
    const procKey = `${typeof p.event.process}:${p.event.process}`;
    ops.push({
      clientId: clientId(p.event.process, procKey),
      input: p.input,
      output: undefined,
      call: p.index,
      return: Infinity,
    });
  };

  for (const [index, ev] of events.entries()) {
    const procKey = `${typeof ev.process}:${ev.process}`;
    const proc = JSON.stringify(ev.process);
    const open = pending.get(procKey);
    if (ev.type === 'invoke') {
      if (open) {
        throw new HistoryParseError(
          `process ${proc} invokes :${ev.f} while its :${open.f}${where(open.event)} is still pending`,
          ev.line,
        );
      }
      if (!isSupported(ev.f)) {
        throw new HistoryParseError(
          `unsupported operation :${ev.f} (expected one of ${SUPPORTED.map((f) => `:${f}`).join(', ')})`,
          ev.line,
        );
      }
      pending.set(procKey, { event: ev, index, input: inputOf(ev, ev.f), f: ev.f });
      continue;
    }
    if (!open) {
      throw new HistoryParseError(`:${ev.type} of process ${proc} without a pending invocation`, ev.line);
    }
    if (ev.f !== open.f || ev.key !== open.event.key) {
      const k = (e: HistoryEvent): string => (e.key === undefined ? '' : ` on key ${JSON.stringify(e.key)}`);
      throw new HistoryParseError(
        `:${ev.type} :${ev.f}${k(ev)} does not match the pending :invoke :${open.f}${k(open.event)}${where(open.event)}`,
        ev.line,
      );
    }
    pending.delete(procKey);
    if (ev.type === 'fail') continue;
    if (ev.type === 'info') {
      unknown(open);
      continue;
    }
    ops.push({
      clientId: clientId(ev.process, procKey),
      input: open.input,
      output: outputOf(ev, open.f),
      call: open.index,
      return: index,
    });
  }
  for (const p of pending.values()) unknown(p);
  return ops;
}

type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

/** True when every operation is a keyless read/write/cas, i.e. the history is one register. */
export function isRegisterHistory(ops: readonly HistoryOperation[]): ops is readonly RegisterOperation[] {
  return ops.every(
    (op) =>
      op.input.key === undefined && (op.input.f === 'read' || op.input.f === 'write' || op.input.f === 'cas'),
  );
}

/**
 * Checks an event history: a single register when every operation is a keyless
 * read/write/cas, otherwise the key-value model (split per key).
 */
export function checkEvents(
  events: readonly HistoryEvent[],
  opts: CheckOptions = {},
): CheckResult<KvInput, KvOutput> {
  const ops = eventsToOperations(events);
  return isRegisterHistory(ops)
    ? checkOperations(registerModel, ops, opts)
    : checkOperations(kvModel, ops, opts);
}
