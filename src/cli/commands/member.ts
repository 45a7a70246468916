// `conclave member add|remove|promote|ls`: the primaries' Raft membership.

import type { Command } from 'commander';
import type { ClusterMember } from '../../client/index.js';
import { runWithClient, withClientOptions } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { printAnswer, renderTable } from '../output.js';

export function registerMember(program: Command): void {
  const member = program.command('member').description("change and list the primaries' Raft membership");

  const add = withClientOptions(
    member
      .command('add')
      .argument('<name>')
      .argument('<url>', "the new node's advertise URL")
      .description('add a primary (a learner, promoted to voter once caught up unless --learner)')
      .option('--learner', 'keep it a learner (non-voting)'),
  );
  add.action((name: string, url: string, options: { learner?: boolean }) =>
    runWithClient(add, async ({ client, output }) => {
      const answer = await client.addMember({ name, url, learner: options.learner === true });
      await printAnswer(output, answer, () => `added ${answer.name} (${answer.url}) as ${answer.role}\n`);
      return EXIT.ok;
    }),
  );

  const remove = withClientOptions(
    member.command('remove').argument('<name>').description('remove a primary (the leader hands over first)'),
  );
  remove.action((name: string) =>
    runWithClient(remove, async ({ client, output }) => {
      const answer = await client.removeMember(name);
      await printAnswer(output, answer, () => `removed ${answer.removed}\n`);
      return EXIT.ok;
    }),
  );

  const promote = withClientOptions(
    member.command('promote').argument('<name>').description('make a learner a voter'),
  );
  promote.action((name: string) =>
    runWithClient(promote, async ({ client, output }) => {
      const answer = await client.promoteMember(name);
      await printAnswer(output, answer, () => `promoted ${answer.name} to ${answer.role}\n`);
      return EXIT.ok;
    }),
  );

  const ls = withClientOptions(member.command('ls').description('the members as the leader sees them'));
  ls.action(() =>
    runWithClient(ls, async ({ client, output }) => {
      // Any node answers this read from its own view, and a new client sends it to the first
      // endpoint until it knows the leader: learn the leader first, so that LIVE and
      // LAST-CONTACT are the leader's (the node that replicates to every member).
      await client.leader().catch(() => undefined);
      const answer = await client.clusterMembers();
      await printAnswer(output, answer, () =>
        renderTable(['NAME', 'URL', 'ROLE', 'LIVE', 'LAST-CONTACT'], answer.members.map(memberRow)),
      );
      return EXIT.ok;
    }),
  );
}

function memberRow(m: ClusterMember): string[] {
  return [
    m.name,
    m.url,
    m.role,
    m.live ? 'yes' : 'no',
    m.lastContactMs === null ? '-' : `${Math.round(m.lastContactMs)}ms ago`,
  ];
}
