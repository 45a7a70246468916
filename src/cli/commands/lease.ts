// `conclave lease grant|revoke|ls`: leases, without keep-alive (a granted lease lives its TTL).

import type { Command } from 'commander';
import type { LeaseListAnswer } from '../../client/index.js';
import { integerAtLeast } from '../arguments.js';
import { runWithClient, withClientOptions } from '../client-options.js';
import type { ClientContext } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { printAnswer, renderTable } from '../output.js';

export function registerLease(program: Command): void {
  const lease = program.command('lease').description('grant, revoke and list leases');

  const grant = withClientOptions(
    lease
      .command('grant')
      .argument('<ttl>', 'seconds', integerAtLeast(1))
      .description('grant a lease and print its id (not kept alive: it expires after its TTL)'),
  );
  grant.action((ttl: number) =>
    runWithClient(grant, async ({ client, output }) => {
      const granted = await client.grantLease(ttl, { keepAlive: false });
      const answer = { id: granted.id, ttl: granted.ttl };
      await printAnswer(output, answer, () => `${answer.id}\n`);
      return EXIT.ok;
    }),
  );

  const revoke = withClientOptions(
    lease
      .command('revoke')
      .argument('<id>', 'lease id', integerAtLeast(1))
      .description('revoke a lease: its keys are deleted'),
  );
  revoke.action((id: number) =>
    runWithClient(revoke, async ({ client, output }) => {
      const answer = await client.revokeLease(id);
      await printAnswer(output, answer, () => `revoked lease ${id}, deleted ${answer.deleted} key(s)\n`);
      return EXIT.ok;
    }),
  );

  const ls = withClientOptions(lease.command('ls').description('list every lease'));
  ls.action(() =>
    runWithClient(ls, async (context) => {
      const answer = await listAll(context);
      await printAnswer(context.output, answer, () =>
        renderTable(
          ['ID', 'TTL', 'KEYS'],
          answer.leases.map((l) => [String(l.id), `${l.ttl}s`, String(l.keys)]),
        ),
      );
      return EXIT.ok;
    }),
  );
}

/** Every page of the lease list, as one answer (the revision of the first page). */
async function listAll({ client }: ClientContext): Promise<LeaseListAnswer> {
  const first = await client.listLeases();
  const leases = [...first.leases];
  let page = first;
  while (page.more) {
    const last = page.leases.at(-1);
    if (last === undefined) break;
    page = await client.listLeases({ after: last.id });
    leases.push(...page.leases);
  }
  return { leases, more: false, revision: first.revision };
}
