// The format-neutral history: a list of invoke/complete events, as Jepsen records them. All
// three parsers produce these, and `checkEvents` consumes them.

/** `fail`: the operation did not happen. `info`: its outcome is unknown (e.g. a timeout). */
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

export const EVENT_TYPES: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];

/** EDN keywords arrive as strings with their colon (`:timed-out`), symbols as plain strings. */
export type EventValue = null | number | string | readonly EventValue[];

/**
 * One line of a history. Invariant (checked by `eventsToOperations`): each process alternates
 * invoke and completion (ok/fail/info) with the same `f` and `key`; a final invoke without a
 * completion is allowed and is treated like `info`.
 */
export interface HistoryEvent {
  readonly process: number | string;
  readonly type: EventType;
  /** The operation: read/write/cas (register) or get/put/append (string key-value). */
  readonly f: string;
  /** The key for key-value histories; absent for a single register. */
  readonly key?: string;
  /** Invoke: the argument (cas: `[from, to]`). ok: the result for read/get. */
  readonly value: EventValue;
  /** 1-based source line, for error messages. */
  readonly line?: number;
}

export function isEventType(s: string): s is EventType {
  return (EVENT_TYPES as readonly string[]).includes(s);
}
