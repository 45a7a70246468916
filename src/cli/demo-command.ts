import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { EXIT } from './exit-codes.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * `conclave demo` (the README's `npm start`): three primaries on 127.0.0.1, data under
 * .conclave-demo/, their logs in .conclave-demo/<name>.log. Ctrl-C stops them all.
 */
export async function runDemo(options: { basePort: number }): Promise<number> {
  const root = resolve(process.cwd(), '.conclave-demo');
  mkdirSync(root, { recursive: true });
  const names = ['n1', 'n2', 'n3'];
  const urls = names.map((_, i) => `http://127.0.0.1:${options.basePort + i}`);
  const initialCluster = names.map((n, i) => `${n}=${urls[i]!}`).join(',');
  const children = new Map<string, ChildProcess>();
  const start = (i: number): void => {
    const name = names[i]!;
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'server',
        '--name',
        name,
        '--cluster-name',
        'demo',
        '--listen',
        `127.0.0.1:${options.basePort + i}`,
        '--initial-cluster',
        initialCluster,
        '--data-dir',
        resolve(root, name),
        '--log-level',
        'info',
      ],
      {
        stdio: [
          'ignore',
          openSync(resolve(root, `${name}.log`), 'a'),
          openSync(resolve(root, `${name}.log`), 'a'),
        ],
      },
    );
    children.set(name, child);
  };
  names.forEach((_, i) => {
    start(i);
  });

  const leader = await waitForLeader(urls, 15_000);
  const lines = [
    '',
    'Conclave demo: 3 primaries on 127.0.0.1 (data and logs in .conclave-demo/)',
    ...names.map((n, i) => `  ${n}  ${urls[i]!}  (pid ${children.get(n)?.pid ?? '?'})`),
    '',
    leader === undefined ? 'No leader yet; give it a second.' : `Leader: ${leader}`,
    '',
    'Try:',
    `  curl -s -X PUT ${urls[1]!}/v1/kv/greeting -H 'content-type: application/json' -d '{"value":"hello"}'`,
    `  curl -s ${urls[2]!}/v1/kv/greeting`,
    `  curl -s ${urls[0]!}/v1/kv?prefix=greet`,
    `  for p in ${names.map((_, i) => options.basePort + i).join(' ')}; do curl -s -o /dev/null -w "$p %{http_code}\\n" http://127.0.0.1:$p/api/leader-check; done`,
    `  curl -s ${urls[0]!}/status`,
    '  kill -9 <pid of the leader>   # another node takes over in a fraction of a second',
    '',
    'Or with the CLI (in another terminal):',
    `  export CONCLAVE_ENDPOINTS=${urls.join(',')}`,
    '  ./bin/conclave get member',
    '  ./bin/conclave kv put greeting hello && ./bin/conclave kv get greeting',
    '  ./bin/conclave kv watch --prefix greet   # Ctrl-C to stop',
    '',
    'Ctrl-C stops the cluster.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stopAll = (): void => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('\nstopping the demo cluster...\n');
      for (const child of children.values()) child.kill('SIGTERM');
      const deadline = setTimeout(() => {
        for (const child of children.values()) child.kill('SIGKILL');
      }, 10_000);
      void Promise.all(
        [...children.values()].map(
          (c) =>
            new Promise<void>((r) => {
              if (c.exitCode !== null || c.signalCode !== null) r();
              else
                c.once('exit', () => {
                  r();
                });
            }),
        ),
      ).then(() => {
        clearTimeout(deadline);
        resolveExit(EXIT.ok);
      });
    };
    process.on('SIGINT', stopAll);
    process.on('SIGTERM', stopAll);
  });
}

async function waitForLeader(urls: readonly string[], timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const url of urls) {
      try {
        const res = await request(`${url}/status`, { headersTimeout: 500, bodyTimeout: 500 });
        const status = (await res.body.json()) as { raft?: { leader?: string | null } };
        if (typeof status.raft?.leader === 'string') return status.raft.leader;
      } catch {
        // Not up yet.
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}
