// Public entry of `conclave/lincheck`: a linearizability checker (Wing & Gong / Lowe search
// with memoization and per-key partitioning, as in porcupine), its ready-made models, and
// parsers for Jepsen-style histories. Anything not exported here is internal.

export { checkOperations } from './check.js';
export { checkEvents, eventsToOperations, isRegisterHistory } from './history.js';
export { registerModel, registerStep } from './register-model.js';
export { kvModel } from './kv-model.js';
export { HistoryParseError, HISTORY_PARSE_ERROR } from './errors.js';
export { parseJepsenLog } from './parse-jepsen.js';
export { parseKvEdn } from './parse-edn.js';
export { parseJsonLines } from './parse-jsonl.js';
export { detectFormat, parseHistory } from './parse-history.js';

export type { CheckOptions, CheckResult, CheckVerdict, Model, Operation } from './model.js';
export type { EventType, EventValue, HistoryEvent } from './events.js';
export type { HistoryOperation } from './history.js';
export type { HistoryFormat } from './parse-history.js';
export type { RegisterInput, RegisterOutput, RegisterValue } from './register-model.js';
export type { KvInput, KvOutput, KvState } from './kv-model.js';
