// The activity log of member records: who joined, left, expired or was removed, and why, kept
// in the replicated state (the last ACTIVITY_KEEP entries) so that every node tells the same story.

import type { Command } from './commands.js';
import type { ActivityRow, Statements } from './statements.js';

/** Member records live under this prefix, one key per node (see src/server/registry/). */
export const MEMBERS_PREFIX = '_conclave/members/';
export const ACTIVITY_KEEP = 100;

export type ActivityEntry = ActivityRow;

/** Whether `cmd` can have changed a member record (keeps the common write from a second query). */
function mayTouchMembers(cmd: Command): boolean {
  const touches = (op: { type: string; key?: string; prefix?: string }): boolean =>
    op.key?.startsWith(MEMBERS_PREFIX) === true ||
    (op.type === 'deleteRange' &&
      op.prefix !== undefined &&
      (op.prefix.startsWith(MEMBERS_PREFIX) || MEMBERS_PREFIX.startsWith(op.prefix)));
  switch (cmd.type) {
    case 'put':
    case 'delete':
    case 'deleteRange':
      return touches(cmd);
    case 'txn':
      return [...cmd.success, ...cmd.failure].some(touches);
    case 'leaseRevoke':
      return true;
    default:
      return false;
  }
}

/** Records the member-record changes that `cmd` made at `revision` (call after it ran). */
export function recordActivity(s: Statements, cmd: Command, revision: number): void {
  if (!mayTouchMembers(cmd)) return;
  let recorded = false;
  for (const row of s.changesFrom.all(revision, 0, 10_000)) {
    if (row.rev !== revision) break;
    const key = row.key.toString('utf8');
    if (!key.startsWith(MEMBERS_PREFIX)) continue;
    const member = key.slice(MEMBERS_PREFIX.length);
    if (row.kind === 'put') {
      if (row.prev_version !== null) continue;
      s.insertActivity.run(revision, member, 'join', 'its member record appeared');
    } else if (cmd.type === 'leaseRevoke') {
      if (cmd.reason === 'expired') {
        s.insertActivity.run(revision, member, 'expire', `no heartbeat for the TTL of lease ${cmd.id}`);
      } else {
        s.insertActivity.run(
          revision,
          member,
          'leave',
          `lease ${cmd.id} revoked (the node stopped or was told to leave)`,
        );
      }
    } else {
      s.insertActivity.run(revision, member, 'remove', 'its member record was deleted');
    }
    recorded = true;
  }
  if (recorded) s.trimActivity.run(ACTIVITY_KEEP);
}

export function listActivity(s: Statements): ActivityEntry[] {
  return s.listActivity.all();
}
