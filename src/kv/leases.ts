// Leases in the replicated state: grant, revoke (deleting the attached keys), and the check that
// a put names a lease that exists. Expiry is not decided here: the leader tracks deadlines in
// memory and proposes `leaseRevoke` commands (see src/server/lease/).

import type { LeaseGrantCommand, Op } from './commands.js';
import { KvError } from './errors.js';
import type { RevisionWriter } from './revision-writer.js';
import type { LeaseListRow, Statements } from './statements.js';

export interface LeaseInfo {
  readonly id: number;
  /** Granted TTL in seconds. */
  readonly ttl: number;
  /** Number of keys attached. */
  readonly keys: number;
}

/**
 * Grants a lease. A store-chosen id is the raft index of the grant, or one above the highest
 * id when that is larger (a client may have picked a high id): deterministic on every node,
 * and never an id still in use.
 */
export function grantLease(
  s: Statements,
  cmd: LeaseGrantCommand,
  index: number,
): { id: number; ttl: number } {
  let id = cmd.id;
  if (id === undefined) {
    id = Math.max(index, s.maxLeaseId.get()! + 1);
  } else if (s.getLease.get(id) !== undefined) {
    throw new KvError('LEASE_EXISTS', `lease ${id} exists already`);
  }
  s.insertLease.run(id, cmd.ttl);
  return { id, ttl: cmd.ttl };
}

/** Deletes the lease's keys (through `writer`, so at one new revision) and the lease. */
export function revokeLease(s: Statements, writer: RevisionWriter, id: number): number {
  requireLease(s, id);
  const deleted = writer.deleteKeys(s.keysWithLease.all(id));
  s.deleteLease.run(id);
  return deleted;
}

export function requireLease(s: Statements, id: number): void {
  if (s.getLease.get(id) === undefined) throw new KvError('LEASE_NOT_FOUND', `no lease ${id}`);
}

/** Throws LEASE_NOT_FOUND unless every put among `ops` names an existing lease (or none). */
export function requireLeasesOf(s: Statements, ops: readonly Op[]): void {
  for (const op of ops) if (op.type === 'put' && op.leaseId !== undefined) requireLease(s, op.leaseId);
}

export function getLease(s: Statements, id: number): LeaseInfo | undefined {
  const row = s.getLease.get(id);
  if (row === undefined) return undefined;
  return { id: row.id, ttl: row.ttl, keys: s.keysWithLease.all(id).length };
}

/** Leases by id, after `afterId`, at most `limit`. */
export function listLeases(s: Statements, afterId: number, limit: number): LeaseInfo[] {
  return s.listLeases
    .all(afterId, limit)
    .map((row: LeaseListRow) => ({ id: row.id, ttl: row.ttl, keys: row.keys }));
}
