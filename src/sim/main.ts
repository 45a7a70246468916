// Entry point of `npm run sim` (see cli.ts for the usage). Exit status: 0 when every run
// passed, 1 on a violation, 2 on bad arguments.

import { runCli } from './cli.js';

process.exitCode = runCli(process.argv.slice(2), {
  out: (line) => {
    console.log(line);
  },
  err: (line) => {
    console.error(line);
  },
  // Wall time, for the summary only: nothing in a run reads a clock.
  now: () => performance.now(),
});
