/** Exit codes of the `conclave` command, documented in docs/OPERATIONS.md. */
export const EXIT = {
  ok: 0,
  /** A runtime failure (an unexpected error, or a failed graceful stop). */
  failure: 1,
  /** Bad configuration, flags or arguments; nothing was started. */
  badConfig: 2,
  /** The data directory was refused (other cluster or node, newer schema, corrupt); nothing was served. */
  dataRefused: 3,
} as const;
