#!/usr/bin/env node
import { Command } from 'commander';
import { runDemo } from './demo-command.js';
import { EXIT } from './exit-codes.js';
import { runServer } from './server-command.js';

const program = new Command();
program.name('conclave').description('Clustering for TypeScript services').showHelpAfterError();

program
  .command('server')
  .description('run a node (settings: conclave server --help)')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .argument('[settings...]')
  .action(async () => {
    process.exitCode = await runServer(argvAfter('server'));
  });

program
  .command('demo')
  .description('start a local 3-node cluster under .conclave-demo/ and print what to try')
  .option('--base-port <port>', 'first of three ports', '7401')
  .action(async (options: { basePort: string }) => {
    process.exitCode = await runDemo({ basePort: Number(options.basePort) });
  });

/** The raw arguments after a subcommand, so the config module parses them itself. */
function argvAfter(command: string): string[] {
  const args = process.argv.slice(2);
  return args.slice(args.indexOf(command) + 1);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `conclave: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = EXIT.failure;
});
