// Messages between a node and its snapshot worker (snapshot-worker.ts).

import type { AppliedPoint } from '../../storage/applied-point.js';

/** Chunks (about 1 MiB each) the worker may produce ahead of the reader. */
export const MAX_CHUNKS_AHEAD = 4;
/** A reader that takes nothing for this long ends the snapshot (the worker gives up). */
export const STALLED_READER_MS = 120_000;

export interface SnapshotWorkerData {
  /** The node's SQLite database file. */
  readonly file: string;
  readonly history: boolean;
  /** Also read the Raft applied point the state is at (for a Raft snapshot), with the head. */
  readonly appliedPoint: boolean;
  /** Int32Array[1]: chunks posted and not yet taken by the reader. */
  readonly chunksAhead: SharedArrayBuffer;
}

export type SnapshotWorkerMessage =
  | {
      readonly kind: 'head';
      readonly revision: number;
      readonly keys: number;
      readonly applied: AppliedPoint | undefined;
    }
  | { readonly kind: 'chunk'; readonly chunk: Uint8Array }
  /** After the last chunk: the snapshot's size and the SHA-256 of all its bytes (hex). */
  | { readonly kind: 'end'; readonly bytes: number; readonly sha256: string }
  | { readonly kind: 'error'; readonly message: string };
