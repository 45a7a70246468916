// `conclave get member` (the member registry, as Easegress's `egctl get member` shows it) and
// `conclave get leader`.

import type { Command } from 'commander';
import type { MemberRecord } from '../../client/index.js';
import { runWithClient, withClientOptions } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { capitalize, formatAge, printAnswer, renderTable } from '../output.js';

export function registerGet(program: Command): void {
  const get = program.command('get').description('show the member registry or the leader');

  const member = withClientOptions(
    get
      .command('member')
      .alias('members')
      .description('every live node of the member registry with its heartbeat'),
  );
  member.action(() =>
    runWithClient(member, async ({ client, output }) => {
      const answer = await client.members();
      await printAnswer(output, answer, () => memberTable(answer.members));
      return EXIT.ok;
    }),
  );

  const leader = withClientOptions(get.command('leader').description("the leader's name and URL"));
  leader.action(() =>
    runWithClient(leader, async ({ client, output }) => {
      const answer = await client.leader();
      await printAnswer(output, answer, () =>
        renderTable(['NAME', 'URL', 'TERM'], [[answer.name, answer.url, String(answer.term)]]),
      );
      return EXIT.ok;
    }),
  );
}

/** Primaries first, then secondaries, each by name. */
export function memberTable(members: readonly MemberRecord[]): string {
  const sorted = [...members].sort(
    (a, b) => (a.role === b.role ? 0 : a.role === 'primary' ? -1 : 1) || a.name.localeCompare(b.name),
  );
  return renderTable(
    ['NAME', 'ROLE', 'AGE', 'STATE', 'API-ADDR', 'HEARTBEAT'],
    sorted.map((m) => [
      m.name,
      m.role,
      formatAge(m.ageSeconds),
      memberState(m),
      m.apiUrl,
      `${Math.round(m.heartbeatSecondsAgo)}s ago`,
    ]),
  );
}

/** A primary's Raft state (`Leader`), `Up` for a secondary; ` (stale)` after missed beats. */
function memberState(member: MemberRecord): string {
  const state =
    member.role === 'secondary'
      ? 'Up'
      : typeof member.raftState === 'string' && member.raftState !== ''
        ? capitalize(member.raftState)
        : 'Unknown';
  return member.state === 'stale' ? `${state} (stale)` : state;
}
