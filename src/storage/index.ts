// Public entry of the SQLite storage layer.
export { SqliteRaftStorage, DATABASE_FILE } from './sqlite-storage.js';
export { StorageError } from './errors.js';
export { SCHEMA_VERSION } from './schema.js';

export type { OpenOptions, StateMachinePort } from './sqlite-storage.js';
export type { StorageErrorCode } from './errors.js';
