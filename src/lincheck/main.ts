#!/usr/bin/env node
// Entry point of `npm run check-history -- FILE`. See cli.ts for options and exit codes.

import { runCli } from './cli.js';

process.exitCode = runCli(process.argv.slice(2), {
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
});
