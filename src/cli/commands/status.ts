// `conclave status`: the status of every endpoint, or why it could not be read.

import type { Command } from 'commander';
import type { EndpointStatus, NodeStatusAnswer } from '../../client/index.js';
import { runWithClient, withClientOptions } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { capitalize, printAnswer, renderTable } from '../output.js';

export function registerStatus(program: Command): void {
  const status = withClientOptions(
    program.command('status').description('the status of every endpoint (fails only when none answers)'),
  );
  status.action(() =>
    runWithClient(status, async ({ client, output }) => {
      const all = await client.statusAll();
      await printAnswer(output, all, () => statusTable(all));
      if (all.some((s) => s.ok)) return EXIT.ok;
      process.stderr.write('conclave: no endpoint answered [UNAVAILABLE]\n');
      return EXIT.unavailable;
    }),
  );
}

function statusTable(all: readonly EndpointStatus[]): string {
  return renderTable(
    ['ENDPOINT', 'NAME', 'ROLE', 'STATE', 'TERM', 'LEADER', 'APPLIED'],
    all.map((s) => (s.ok ? [s.endpoint, ...statusCells(s.status)] : [s.endpoint, `error: ${s.error}`])),
  );
}

/** A primary's Raft view; a secondary has no term or leader, and its applied revision. */
function statusCells(status: NodeStatusAnswer): string[] {
  const raft = status.raft;
  if (raft !== undefined) {
    return [
      status.name,
      status.role,
      capitalize(raft.state),
      String(raft.term),
      raft.leader ?? '-',
      String(raft.appliedIndex),
    ];
  }
  const health = status.health as { status?: unknown } | undefined;
  const revision = status.revision;
  return [
    status.name,
    status.role,
    typeof health?.status === 'string' ? capitalize(health.status) : '-',
    '-',
    '-',
    typeof revision === 'number' ? String(revision) : '-',
  ];
}
