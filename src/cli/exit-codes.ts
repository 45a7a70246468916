/** Exit codes of the `conclave` command, documented in docs/OPERATIONS.md. */
export const EXIT = {
  ok: 0,
  /**
   * A runtime failure: an unexpected error, a failed graceful stop, or (client commands) a node
   * answered with an error such as 409 MEMBER_EXISTS.
   */
  failure: 1,
  /** Bad configuration, flags or arguments; nothing was started (or sent). */
  badConfig: 2,
  /** The data directory was refused (other cluster or node, newer schema, corrupt); nothing was served. */
  dataRefused: 3,
  /** Client commands: no endpoint gave an answer (unreachable, or still unavailable after every retry). */
  unavailable: 4,
  /** Client commands: the key, lease or member does not exist. */
  notFound: 5,
} as const;
