#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { argvAfter } from './arguments.js';
import { registerGet } from './commands/get.js';
import { registerKv } from './commands/kv.js';
import { registerLease } from './commands/lease.js';
import { registerMember } from './commands/member.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerStatus } from './commands/status.js';
import { VERSION } from '../server/version.js';
import { EXIT } from './exit-codes.js';

const program = new Command();
program
  .name('conclave')
  .description('Clustering for TypeScript services')
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nClient commands take --endpoints (or CONCLAVE_ENDPOINTS), --secret (or CONCLAVE_SECRET),\n' +
      '-o table|json|yaml and --timeout.\n' +
      'Exit codes: 0 ok, 1 failure, 2 bad usage or config, 3 data directory refused,\n' +
      '4 no endpoint answered, 5 not found (docs/OPERATIONS.md).\n',
  )
  // Usage errors become a CommanderError (below) instead of process.exit(1); set before the
  // subcommands are added, which inherit it.
  .exitOverride();

// The node's modules (Fastify, SQLite) load only for the commands that run a node.
program
  .command('server')
  .description('run a node (settings: conclave server --help)')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .argument('[settings...]')
  .action(async () => {
    const { runServer } = await import('./server-command.js');
    process.exitCode = await runServer(argvAfter('server'));
  });

program
  .command('demo')
  .description('start a local 3-node cluster under .conclave-demo/ and print what to try')
  .option('--base-port <port>', 'first of three ports', '7401')
  .action(async (options: { basePort: string }) => {
    const { runDemo } = await import('./demo-command.js');
    process.exitCode = await runDemo({ basePort: Number(options.basePort) });
  });

registerGet(program);
registerStatus(program);
registerKv(program);
registerLease(program);
registerMember(program);
registerSnapshot(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander printed the message (or the help); --help is a success, any other a usage error.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.badConfig;
    return;
  }
  process.stderr.write(
    `conclave: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = EXIT.failure;
});
