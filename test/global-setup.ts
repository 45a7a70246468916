import { execFileSync } from 'node:child_process';

/** Tests that spawn `bin/conclave` run the compiled code: build it first (incremental, fast). */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
