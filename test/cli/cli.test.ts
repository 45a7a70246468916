// The `conclave` client commands against a real 3-node cluster: every command in table and JSON
// output (YAML once), exit codes, endpoints from the environment, unreachable endpoints.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { formatAge, formatBytes, progressBar, renderTable } from '../../src/cli/output.js';
import { freePorts, http, ProcessCluster, sleep } from '../server/process-cluster.js';
import { CliProcess, parseTable, runCli } from './helpers.js';
import type { CliResult } from './helpers.js';

interface MemberRow {
  name: string;
  role: string;
  apiUrl: string;
  raftState?: string | null;
}

describe('cli - output helpers', () => {
  it('renderTable pads to the widest cell, two spaces apart, without trailing spaces', () => {
    expect(
      renderTable(
        ['A', 'BB', 'C'],
        [
          ['xyz', '', 'last'],
          ['q', 'r', ''],
        ],
      ),
    ).toBe('A    BB  C\nxyz      last\nq    r\n');
  });

  it('renderTable lets the last cell of a short row span the rest', () => {
    expect(
      renderTable(
        ['A', 'B', 'C'],
        [
          ['a', 'b', 'c'],
          ['aa', 'error: a long message'],
        ],
      ),
    ).toBe('A   B  C\na   b  c\naa  error: a long message\n');
  });

  it('formatAge and formatBytes use the largest whole unit', () => {
    expect([0, 45.9, 60, 600, 3_599, 3_600, 86_399, 2 * 86_400].map(formatAge)).toEqual([
      '0s',
      '45s',
      '1m',
      '10m',
      '59m',
      '1h',
      '23h',
      '2d',
    ]);
    expect([0, 1023, 1024, 1.2 * 1024 ** 2, 3 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.2 MiB',
      '3.0 GiB',
    ]);
  });

  it('progressBar shows the share done and the sizes', () => {
    expect(progressBar(0.45 * 2.7 * 1024 ** 2, 2.7 * 1024 ** 2)).toBe(
      '[#########           ] 45% 1.2 MiB / 2.7 MiB',
    );
    expect(progressBar(10, 10)).toBe('[####################] 100% 10 B / 10 B');
  });
});

describe('cli - client commands (real processes)', () => {
  let cluster: ProcessCluster;
  let endpoints: string;
  let leader: string;
  let dir: string;

  /** `conclave ...args --endpoints <the cluster>`, expecting exit code `code` (stderr shown otherwise). */
  async function cli(args: readonly string[], code = 0): Promise<CliResult> {
    const result = await runCli([...args, '--endpoints', endpoints]);
    if (result.code !== code) {
      throw new Error(
        `conclave ${args.join(' ')}: exit ${result.code}, expected ${code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return result;
  }

  const json = async <T>(args: readonly string[]): Promise<T> =>
    JSON.parse((await cli([...args, '-o', 'json'])).stdout) as T;

  const url = (name: string): string => cluster.node(name).url;

  beforeAll(async () => {
    // Member records every second, so that their Raft state follows the election.
    cluster = await ProcessCluster.create(3, ['--member-heartbeat-interval', '1s']);
    cluster.startAll();
    await cluster.waitReady();
    await cluster.waitRegistered();
    leader = await cluster.leader();
    endpoints = cluster.nodes.map((n) => n.url).join(',');
    dir = mkdtempSync(join(tmpdir(), 'conclave-cli-'));
  });

  afterAll(async () => {
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('get member - the registry with one Leader and two Followers', async () => {
    // The registry catches up with the election within a heartbeat or two.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await http(`${url('n1')}/v1/members`, { timeoutMs: 2_000 });
      const members = (res.body as { members?: MemberRow[] } | undefined)?.members ?? [];
      const states = new Map(members.map((m) => [m.name, m.raftState]));
      if (cluster.nodes.every((n) => states.get(n.name) === (n.name === leader ? 'leader' : 'follower')))
        break;
      if (Date.now() > deadline) throw new Error(`registry states: ${JSON.stringify([...states])}`);
      await sleep(200);
    }
    const [table, yamlOut] = await Promise.all([
      cli(['get', 'member']),
      cli(['get', 'members', '-o', 'yaml']),
    ]);
    const rows = parseTable(table.stdout, ['NAME', 'ROLE', 'AGE', 'STATE', 'API-ADDR', 'HEARTBEAT']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME {2}ROLE {5}AGE {2,}STATE {5}API-ADDR {2,}HEARTBEAT$/);
    expect(rows.map((r) => r[0])).toEqual(['n1', 'n2', 'n3']);
    for (const [name, role, age, state, api, heartbeat] of rows) {
      expect(role).toBe('primary');
      expect(age).toMatch(/^\d+s$/);
      expect(state).toBe(name === leader ? 'Leader' : 'Follower');
      expect(api).toBe(url(name!));
      expect(heartbeat).toMatch(/^\d+s ago$/);
    }

    const yaml = parseYaml(yamlOut.stdout) as { members: MemberRow[] };
    expect(yaml.members.map((m) => [m.name, m.role, m.apiUrl]).sort()).toEqual(
      cluster.nodes.map((n) => [n.name, 'primary', n.url]),
    );
  });

  it('get leader - name, URL and term', async () => {
    const [answer, { stdout }] = await Promise.all([
      json<{ name: string; url: string; term: number }>(['get', 'leader']),
      cli(['get', 'leader']),
    ]);
    expect(answer).toEqual({ name: leader, url: url(leader), term: expect.any(Number) as number });
    expect(stdout).toBe(
      `NAME  ${'URL'.padEnd(url(leader).length)}  TERM\n${leader.padEnd(4)}  ${url(leader)}  ${answer.term}\n`,
    );
  });

  it('status - a row per endpoint, an error row for an unreachable one; fails only when none answers', async () => {
    const [deadPort] = await freePorts(1);
    const dead = `http://127.0.0.1:${deadPort}`;
    const [{ stdout }, all, mixed, none] = await Promise.all([
      cli(['status']),
      json<{ endpoint: string; ok: boolean; status: { name: string } }[]>(['status']),
      runCli(['status', '--endpoints', `${dead} ${url('n1')}`]),
      runCli(['status', '--endpoints', dead, '-o', 'json']),
    ]);

    const rows = parseTable(stdout, ['ENDPOINT', 'NAME', 'ROLE', 'STATE', 'TERM', 'LEADER', 'APPLIED']);
    expect(rows.map((r) => r.slice(0, 4))).toEqual(
      cluster.nodes.map((n) => [n.url, n.name, 'primary', n.name === leader ? 'Leader' : 'Follower']),
    );
    for (const row of rows) {
      expect(row[4]).toMatch(/^\d+$/);
      expect(row[5]).toBe(leader);
      expect(row[6]).toMatch(/^\d+$/);
    }
    expect(all.map((s) => [s.endpoint, s.ok, s.status.name])).toEqual(
      cluster.nodes.map((n) => [n.url, true, n.name]),
    );

    expect(mixed.code).toBe(0);
    const [, deadRow, liveRow] = mixed.stdout.split('\n');
    expect(deadRow).toMatch(new RegExp(`^${dead} +error: .*ECONNREFUSED`));
    expect(liveRow).toMatch(new RegExp(`^${url('n1')} +n1 +primary `));

    expect(none.code).toBe(4);
    expect(JSON.parse(none.stdout)).toEqual([
      { endpoint: dead, ok: false, error: expect.any(String) as string },
    ]);
    expect(none.stderr).toBe('conclave: no endpoint answered [UNAVAILABLE]\n');
  });

  it('kv - put, get, ls, del in table and json output', async () => {
    const [put1, put2] = await Promise.all([
      cli(['kv', 'put', 'cli/kv/a', 'one']),
      json<{ revision: number }>(['kv', 'put', 'cli/kv/b', 'two words']),
      cli(['kv', 'put', 'cli/kv/c', 'three']),
    ]);
    expect(put1.stdout).toMatch(/^OK revision \d+\n$/);
    expect(Object.keys(put2)).toEqual(['revision']);

    const [value, got, missing, table, limited, listed] = await Promise.all([
      cli(['kv', 'get', 'cli/kv/b']),
      json<{ key: string; value: string; modRevision: number; version: number }>(['kv', 'get', 'cli/kv/b']),
      cli(['kv', 'get', 'cli/kv/missing'], 5),
      cli(['kv', 'ls', 'cli/kv/']),
      cli(['kv', 'ls', 'cli/kv/', '--keys-only', '--limit', '2']),
      json<{ kvs: { key: string; value: string }[] }>(['kv', 'ls', 'cli/kv/', '--keys-only']),
    ]);
    expect(value.stdout).toBe('two words\n');
    expect(got).toEqual({
      key: 'cli/kv/b',
      value: 'two words',
      createRevision: put2.revision,
      modRevision: put2.revision,
      version: 1,
      lease: null,
    });
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('conclave: no key "cli/kv/missing" [KEY_NOT_FOUND]\n');
    const rows = parseTable(table.stdout, ['KEY', 'MOD-REV', 'VERSION', 'LEASE', 'VALUE']);
    expect(rows.map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      ['cli/kv/a', '1', '-', 'one'],
      ['cli/kv/b', '1', '-', 'two words'],
      ['cli/kv/c', '1', '-', 'three'],
    ]);
    expect(rows[1]![1]).toBe(String(put2.revision));
    expect(limited.stdout).toBe('cli/kv/a\ncli/kv/b\n');
    expect(listed.kvs.map((p) => [p.key, p.value])).toEqual([
      ['cli/kv/a', ''],
      ['cli/kv/b', ''],
      ['cli/kv/c', ''],
    ]);

    expect((await cli(['kv', 'del', 'cli/kv/a'])).stdout).toBe('deleted 1\n');
    const [again, byPrefix] = await Promise.all([
      cli(['kv', 'del', 'cli/kv/a']),
      json<{ revision: number; deleted: number }>(['kv', 'del', '--prefix', 'cli/kv/']),
    ]);
    expect(again.stdout).toBe('deleted 0\n');
    expect(byPrefix).toEqual({ revision: expect.any(Number) as number, deleted: 2 });
    const [empty, both] = await Promise.all([
      cli(['kv', 'ls', 'cli/kv/']),
      cli(['kv', 'del', 'x', '--prefix', 'y'], 2),
    ]);
    expect(empty.stdout).toBe('KEY  MOD-REV  VERSION  LEASE  VALUE\n');
    expect(both.stderr).toMatch(/^error: give exactly one of KEY and --prefix\n/);
  });

  it('kv watch - one line per event until SIGINT, one JSON object per line until SIGTERM; exit 0', async () => {
    const { revision: before } = await json<{ revision: number }>(['kv', 'put', 'cli/other', 'x']);
    const from = String(before + 1);
    const lines = new CliProcess([
      'kv',
      'watch',
      '--prefix',
      'cli/w/',
      '--rev',
      from,
      '--prev-kv',
      '--endpoints',
      endpoints,
    ]);
    const objects = new CliProcess([
      'kv',
      'watch',
      'cli/w/a',
      '--rev',
      from,
      '-o',
      'json',
      '--endpoints',
      endpoints,
    ]);
    const r1 = (await json<{ revision: number }>(['kv', 'put', 'cli/w/a', '1'])).revision;
    const r2 = (await json<{ revision: number }>(['kv', 'put', 'cli/w/a', '2'])).revision;
    const r3 = (await json<{ revision: number }>(['kv', 'del', 'cli/w/a'])).revision;

    expect(await lines.lines(3)).toEqual([
      `[rev ${r1}] PUT cli/w/a = 1`,
      `[rev ${r2}] PUT cli/w/a = 2 (was 1)`,
      `[rev ${r3}] DELETE cli/w/a (was 2)`,
    ]);
    const events = (await objects.lines(3)).map(
      (line) => JSON.parse(line) as { type: string; revision: number; kv: { key: string; value: string } },
    );
    expect(events.map((e) => [e.type, e.revision, e.kv.key, e.kv.value])).toEqual([
      ['put', r1, 'cli/w/a', '1'],
      ['put', r2, 'cli/w/a', '2'],
      ['delete', r3, 'cli/w/a', ''],
    ]);

    const [linesCode, objectsCode] = await Promise.all([lines.stop('SIGINT'), objects.stop('SIGTERM')]);
    expect([linesCode, objectsCode]).toEqual([0, 0]);
    expect(lines.stdout.split('\n')).toHaveLength(4);
    expect(objects.stdout.split('\n')).toHaveLength(4);
    expect(lines.stderr + objects.stderr).toBe('');
  });

  it('lease - grant (printing the id), ls, revoke (deleting its keys); a revoked lease is not found', async () => {
    const [id, granted] = await Promise.all([
      cli(['lease', 'grant', '60']),
      json<{ id: number; ttl: number }>(['lease', 'grant', '30']),
    ]);
    expect(id.stdout).toMatch(/^\d+\n$/);
    expect(granted).toEqual({ id: expect.any(Number) as number, ttl: 30 });
    const leaseId = id.stdout.trim();
    await cli(['kv', 'put', 'cli/leased', 'v', '--lease', leaseId]);

    const [table, listed] = await Promise.all([
      cli(['lease', 'ls']),
      json<{ leases: { id: number; ttl: number; keys: number }[] }>(['lease', 'ls']),
    ]);
    const rows = parseTable(table.stdout, ['ID', 'TTL', 'KEYS']);
    expect(rows.filter((r) => r[0] === leaseId)).toEqual([[leaseId, '60s', '1']]);
    expect(listed.leases.filter((l) => l.id === Number(leaseId))).toEqual([
      { id: Number(leaseId), ttl: 60, keys: 1 },
    ]);

    const [revoked, revokedJson] = await Promise.all([
      cli(['lease', 'revoke', leaseId]),
      json<{ deleted: number }>(['lease', 'revoke', String(granted.id)]),
    ]);
    expect(revoked.stdout).toBe(`revoked lease ${leaseId}, deleted 1 key(s)\n`);
    expect(revokedJson).toEqual({ revision: expect.any(Number) as number, deleted: 0 });
    const [, again] = await Promise.all([
      cli(['kv', 'get', 'cli/leased'], 5),
      cli(['lease', 'revoke', leaseId], 5),
    ]);
    expect(again.stderr).toMatch(/^conclave: .*\[LEASE_NOT_FOUND\]\n$/);
  });

  it('member - add a learner, list it, refuse it twice, remove it; promote of no member is not found', async () => {
    const [port] = await freePorts(1);
    const joiner = `http://127.0.0.1:${port}`;
    expect((await cli(['member', 'add', 'n9', joiner, '--learner'])).stdout).toBe(
      `added n9 (${joiner}) as learner\n`,
    );
    const [table, listed, twice] = await Promise.all([
      cli(['member', 'ls']),
      json<{ leader: string; members: { name: string; role: string; live: boolean }[] }>(['member', 'ls']),
      cli(['member', 'add', 'n9', joiner], 1),
    ]);
    const rows = parseTable(table.stdout, ['NAME', 'URL', 'ROLE', 'LIVE', 'LAST-CONTACT']);
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ...cluster.nodes.map((n) => [n.name, n.url, 'voter', 'yes']),
      ['n9', joiner, 'learner', 'no'],
    ]);
    expect(listed.leader).toBe(leader);
    expect(listed.members.find((m) => m.name === 'n9')).toMatchObject({ role: 'learner', live: false });
    expect(twice.stderr).toMatch(/^conclave: .*\[MEMBER_EXISTS\]\n$/);

    expect(await json<{ removed: string }>(['member', 'remove', 'n9'])).toEqual({ removed: 'n9' });
    const [after, promote, removeAgain] = await Promise.all([
      json<{ members: { name: string }[] }>(['member', 'ls']),
      cli(['member', 'promote', 'nope'], 5),
      cli(['member', 'remove', 'n9'], 5),
    ]);
    expect(after.members.map((m) => m.name)).toEqual(['n1', 'n2', 'n3']);
    expect(promote.stderr).toMatch(/^conclave: .*\[MEMBER_NOT_FOUND\]\n$/);
    expect(removeAgain.stderr).toMatch(/^conclave: .*\[MEMBER_NOT_FOUND\]\n$/);
  });

  it('snapshot save - written whole (no .tmp left), reported on stderr; json describes it', async () => {
    const file = join(dir, 'backup.snap');
    const second = join(dir, 'second.snap');
    const [{ stdout, stderr }, described] = await Promise.all([
      cli(['snapshot', 'save', file]),
      json<{ file: string; bytes: number; sha256: string; keyCount: number }>(['snapshot', 'save', second]),
    ]);
    expect(stdout).toBe('');
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(0);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(stderr).toMatch(
      new RegExp(`^saved ${file}: revision \\d+, \\d+ keys, ${bytes.length} bytes, sha256 ${sha256}\\n$`),
    );

    const secondBytes = readFileSync(second);
    expect(described).toMatchObject({
      file: second,
      bytes: secondBytes.length,
      sha256: createHash('sha256').update(secondBytes).digest('hex'),
    });
    expect(described.keyCount).toBeGreaterThanOrEqual(3);
  });

  it('CONCLAVE_ENDPOINTS (space-separated) stands in for --endpoints', async () => {
    await cli(['kv', 'put', 'cli/env', 'from-env']);
    const result = await runCli(['kv', 'get', 'cli/env'], {
      env: { CONCLAVE_ENDPOINTS: cluster.nodes.map((n) => n.url).join(' '), CONCLAVE_SECRET: cluster.secret },
    });
    expect(result).toEqual({ code: 0, stdout: 'from-env\n', stderr: '' });
  });

  it('unreachable endpoints - exit 4, each endpoint listed with its reason', async () => {
    const result = await runCli([
      'get',
      'member',
      '--endpoints',
      'http://127.0.0.1:1,http://127.0.0.1:2',
      '--timeout',
      '1500',
    ]);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^conclave: no endpoint answered after \d+ attempt\(s\) \[UNAVAILABLE\]\n {2}http:\/\/127\.0\.0\.1:1 — ECONNREFUSED\n {2}http:\/\/127\.0\.0\.1:2 — ECONNREFUSED\n$/,
    );
  });

  it('usage errors exit 2, --help exits 0', async () => {
    const [bad, badTtl, noKey, badEndpoint, help, version] = await Promise.all([
      runCli(['get', 'member', '-o', 'xml', '--endpoints', endpoints]),
      runCli(['lease', 'grant', 'soon']),
      runCli(['kv', 'get']),
      runCli(['kv', 'get', 'k', '--endpoints', 'ftp://x']),
      runCli(['kv', 'put', '--help']),
      runCli(['--version']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: option '-o, --output <format>' argument 'xml' is invalid/);
    expect([badTtl.code, noKey.code, badEndpoint.code]).toEqual([2, 2, 2]);
    expect(badEndpoint.stderr).toBe('conclave: endpoint must be http(s): "ftp://x" [INVALID_ARGUMENT]\n');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: conclave kv put \[options\] <key> <value>/);
    expect(help.stdout).toContain('env: CONCLAVE_ENDPOINTS');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect([version.code, version.stdout]).toEqual([0, `${pkg.version}\n`]);
  });
});
