import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir, helpRequested } from '../../src/config/index.js';
import { load, SECRET, tempDir, writeFile } from './helpers.js';

describe('config - defaults', () => {
  it('an empty command line gives a loopback one-node primary', () => {
    expect(load()).toEqual({
      name: undefined,
      clusterName: 'conclave',
      role: 'primary',
      listen: { host: '127.0.0.1', port: 7400 },
      advertiseUrl: 'http://127.0.0.1:7400',
      initialCluster: [],
      initialClusterState: 'new',
      dataDir: undefined,
      minimumNodes: 1,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 500,
      memberHeartbeatIntervalMs: 5000,
      snapshotThreshold: 10000,
      snapshotTrailingEntries: 5000,
      secret: undefined,
      logLevel: 'info',
      maxRequestBytes: 1024 * 1024,
      maxKeyBytes: 4096,
      maxValueBytes: 1024 * 1024,
      join: [],
      staleAfterMs: undefined,
      joinRetries: 5,
      joinTimeoutMs: 10_000,
      stateFile: undefined,
      snapshotCompression: 1,
      snapshotConcurrency: 2,
      clientAuth: 'none',
      configFile: undefined,
    });
  });

  it('an empty file and `key:` with no value leave the defaults', () => {
    expect(load({ yaml: '' }).clusterName).toBe('conclave');
    expect(load({ yaml: '# nothing here\n' }).logLevel).toBe('info');
    expect(load({ yaml: 'cluster-name:\nlog-level: ~\n' }).clusterName).toBe('conclave');
  });

  it('the default data dir is left to the server, and derived under cwd', () => {
    expect(load().dataDir).toBeUndefined();
    expect(defaultDataDir('/srv', 'n1')).toBe('/srv/conclave-data/n1');
  });
});

describe('config - precedence: flag > env > file > default', () => {
  const yaml = [
    'cluster-name: from-file',
    'log-level: warn',
    'heartbeat-interval: 50ms',
    'max-request-bytes: 2MiB',
    'minimum-nodes: 2',
    '',
  ].join('\n');
  const env = {
    CONCLAVE_CLUSTER_NAME: 'from-env',
    CONCLAVE_LOG_LEVEL: 'debug',
    CONCLAVE_HEARTBEAT_INTERVAL: '40ms',
  };
  const argv = ['--cluster-name', 'from-flag', '--log-level=trace'];

  it('file beats default', () => {
    const c = load({ yaml });
    expect([c.clusterName, c.logLevel, c.heartbeatIntervalMs, c.maxRequestBytes, c.minimumNodes]).toEqual([
      'from-file',
      'warn',
      50,
      2 * 1024 * 1024,
      2,
    ]);
    expect(c.electionTimeoutMs).toBe(500); // not in any source: default
  });

  it('env beats file', () => {
    const c = load({ yaml, env });
    expect([c.clusterName, c.logLevel, c.heartbeatIntervalMs, c.maxRequestBytes]).toEqual([
      'from-env',
      'debug',
      40,
      2 * 1024 * 1024,
    ]);
  });

  it('flag beats env and file', () => {
    const c = load({ yaml, env, argv });
    expect([c.clusterName, c.logLevel, c.heartbeatIntervalMs, c.minimumNodes]).toEqual([
      'from-flag',
      'trace',
      40,
      2,
    ]);
  });

  it('flags take `--flag value` and `--flag=value`', () => {
    const c = load({
      argv: ['--name', 'n1', '--role=secondary', '--stale-after', '30s', '--election-timeout=2s'],
    });
    expect([c.name, c.role, c.staleAfterMs, c.electionTimeoutMs]).toEqual(['n1', 'secondary', 30_000, 2000]);
  });

  it('the config file itself can come from CONCLAVE_CONFIG_FILE; the flag wins over it', () => {
    const cwd = tempDir();
    const a = writeFile(cwd, 'a.yaml', 'cluster-name: from-a\n');
    writeFile(cwd, 'b.yaml', 'cluster-name: from-b\n');
    const env = { CONCLAVE_CONFIG_FILE: 'a.yaml' };
    expect(load({ cwd, env }).clusterName).toBe('from-a');
    expect(load({ cwd, env, argv: ['--config-file', 'b.yaml'] }).clusterName).toBe('from-b');
    expect(load({ cwd, argv: ['--config-file', a] }).configFile).toBe(a);
  });

  it('an empty environment variable counts as not set', () => {
    expect(load({ yaml: 'cluster-name: from-file\n', env: { CONCLAVE_CLUSTER_NAME: '' } }).clusterName).toBe(
      'from-file',
    );
  });

  it("other tools' CONCLAVE_ variables are ignored", () => {
    expect(() =>
      load({ env: { CONCLAVE_ENDPOINTS: 'http://x:1', CONCLAVE_SIM_SEEDS: '100' } }),
    ).not.toThrow();
  });

  it('relative paths resolve against cwd', () => {
    const cwd = tempDir();
    expect(load({ cwd, argv: ['--data-dir', 'data/n1'] }).dataDir).toBe(resolve(cwd, 'data/n1'));
    expect(load({ cwd, yaml: 'data-dir: /var/lib/conclave\n' }).dataDir).toBe('/var/lib/conclave');
  });

  it('--help is recognized and does not change the configuration', () => {
    expect(helpRequested(['--name', 'n1', '--help'])).toBe(true);
    expect(helpRequested(['-h'])).toBe(true);
    expect(helpRequested(['--name', 'n1'])).toBe(false);
    expect(load({ argv: ['--help'] }).role).toBe('primary');
  });
});

describe('config - list and map values', () => {
  it('join takes a YAML list, a comma list or a repeated flag', () => {
    expect(load({ yaml: 'join:\n  - http://10.0.0.1:7400\n  - https://b.example:443\n' }).join).toEqual([
      'http://10.0.0.1:7400',
      'https://b.example:443',
    ]);
    expect(load({ env: { CONCLAVE_JOIN: 'http://a:1, http://b:2' } }).join).toEqual([
      'http://a:1',
      'http://b:2',
    ]);
    expect(load({ argv: ['--join', 'http://a:1', '--join=http://b:2,http://c:3'] }).join).toEqual([
      'http://a:1',
      'http://b:2',
      'http://c:3',
    ]);
  });

  it('numbers in YAML and digits in strings are both accepted', () => {
    const c = load({
      yaml: 'heartbeat-interval: 20\nelection-timeout: "200"\nmax-key-bytes: 1KiB\nsnapshot-threshold: "7"\n',
    });
    expect([c.heartbeatIntervalMs, c.electionTimeoutMs, c.maxKeyBytes, c.snapshotThreshold]).toEqual([
      20, 200, 1024, 7,
    ]);
  });

  it('IPv6 listen addresses', () => {
    const c = load({ argv: ['--listen', '[::1]:7401'] });
    expect(c.listen).toEqual({ host: '::1', port: 7401 });
    expect(c.advertiseUrl).toBe('http://[::1]:7401');
  });

  it('a non-loopback listen address with a secret', () => {
    const c = load({ argv: ['--listen', '10.1.2.3:7400'], env: { CONCLAVE_SECRET: SECRET } });
    expect(c.secret).toBe(SECRET);
    expect(c.advertiseUrl).toBe('http://10.1.2.3:7400');
  });
});
