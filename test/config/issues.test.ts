import { describe, expect, it } from 'vitest';
import { CONFIG_INVALID, ConfigError, formatConfigError, redactConfig } from '../../src/config/index.js';
import { issueFor, issues, load, loadError, SECRET, tempDir } from './helpers.js';

describe('config issues - unknown settings', () => {
  it('an unknown YAML key suggests the closest setting, with file and line', () => {
    const cwd = tempDir();
    const issue = issueFor(issues({ cwd, yaml: 'log-level: info\nclustr-name: prod\n' }), 'clustr-name');
    expect(issue).toEqual({
      code: 'unknown_setting',
      key: 'clustr-name',
      source: 'file',
      sourceDetail: `${cwd}/conclave.yaml:2`,
      message: 'unknown setting; did you mean `cluster-name`?',
    });
  });

  it('a camelCase or snake_case YAML key is told the kebab-case spelling', () => {
    const all = issues({ yaml: 'clusterName: prod\nheartbeat_interval: 10ms\n' });
    expect(issueFor(all, 'clusterName').message).toContain('kebab-case: write `cluster-name`');
    expect(issueFor(all, 'heartbeat_interval').message).toContain('kebab-case: write `heartbeat-interval`');
  });

  it('names carried over from Easegress point to their Conclave setting', () => {
    const all = issues({ yaml: 'cluster-role: primary\napi-addr: 127.0.0.1:7400\n' });
    expect(issueFor(all, 'cluster-role').message).toContain('did you mean `role`?');
    expect(issueFor(all, 'api-addr').message).toContain('did you mean `listen`?');
  });

  it('a key far from every setting points to the list', () => {
    expect(issueFor(issues({ yaml: 'cpu-profile-file: x\n' }), 'cpu-profile-file').message).toContain(
      '--help',
    );
  });

  it('config-file inside the config file is refused', () => {
    const issue = issueFor(issues({ yaml: 'config-file: other.yaml\n' }), 'config-file');
    expect(issue.message).toContain('CONCLAVE_CONFIG_FILE');
  });

  it("an unknown CONCLAVE_ variable suggests the right one; other tools' variables pass", () => {
    const all = issues({
      env: {
        CONCLAVE_CLUSTR_NAME: 'x',
        CONCLAVE_ENDPOINTS: 'http://a:1',
        CONCLAVE_SIM_SEEDS: '5',
        PATH: '/bin',
      },
    });
    expect(all).toEqual([
      {
        code: 'unknown_setting',
        key: 'CONCLAVE_CLUSTR_NAME',
        source: 'env',
        sourceDetail: 'CONCLAVE_CLUSTR_NAME',
        message: 'unknown CONCLAVE_ variable; did you mean CONCLAVE_CLUSTER_NAME?',
      },
    ]);
  });

  it('an unknown flag suggests the right one, and its value is not reported again', () => {
    const all = issues({ argv: ['--clustr-name', 'prod', '--clusterName=prod'] });
    expect(all.map((i) => [i.key, i.source, i.message])).toEqual([
      ['--clustr-name', 'flag', 'unknown flag; did you mean --cluster-name?'],
      ['--clusterName', 'flag', 'unknown flag; flags are kebab-case: --cluster-name'],
    ]);
  });

  it('a stray argument, a flag without its value and a repeated flag are reported', () => {
    const all = issues({ argv: ['n1', '--role', 'primary', '--role', 'secondary', '--name'] });
    expect(all.map((i) => [i.code, i.key])).toEqual([
      ['invalid_value', 'n1'],
      ['conflict', 'role'],
      ['missing_value', 'name'],
    ]);
    expect(issueFor(all, 'role').message).toBe(
      'given more than once (--role "primary", then --role "secondary"); give it once',
    );
  });

  it('a flag followed by another flag is missing its value', () => {
    const issue = issueFor(issues({ argv: ['--name', '--role', 'primary'] }), 'name');
    expect(issue.code).toBe('missing_value');
    expect(issue.message).toContain('the next argument "--role" is a flag');
  });
});

describe('config issues - bad values', () => {
  it('a wrong type in YAML says what was expected and what was given', () => {
    const all = issues({ yaml: 'minimum-nodes: three\nrole: [primary]\nname: 1\nlog-level: loud\n' });
    expect(issueFor(all, 'minimum-nodes').message).toBe('expected an integer ≥ 1, got "three"');
    expect(issueFor(all, 'role').message).toBe('expected one of primary, secondary, got a list');
    expect(issueFor(all, 'name').message).toMatch(/^expected a name of 1 to 63 letters.*, got the number 1$/);
    expect(issueFor(all, 'log-level').message).toBe(
      'expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
  });

  it('an integer below its minimum', () => {
    const issue = issueFor(issues({ env: { CONCLAVE_MINIMUM_NODES: '0' } }), 'minimum-nodes');
    expect(issue).toMatchObject({ source: 'env', sourceDetail: 'CONCLAVE_MINIMUM_NODES' });
    expect(issue.message).toBe('expected an integer ≥ 1, got the number 0');
  });

  it('a bad duration', () => {
    const issue = issueFor(issues({ argv: ['--heartbeat-interval', '10 seconds'] }), 'heartbeat-interval');
    expect(issue).toMatchObject({
      code: 'invalid_value',
      source: 'flag',
      sourceDetail: '--heartbeat-interval',
    });
    expect(issue.message).toMatch(/^expected a duration such as 150ms, 2s.*, got "10 seconds"$/);
  });

  it('a zero duration', () => {
    const issue = issueFor(issues({ argv: ['--stale-after=0'] }), 'stale-after');
    expect(issue.message).toBe('expected at least 1ms, got 0ms');
  });

  it('a bad size', () => {
    const issue = issueFor(issues({ yaml: 'max-request-bytes: 1M\n' }), 'max-request-bytes');
    expect(issue.message).toMatch(/^expected a size such as 4096, 512KiB, 1MiB or 1MB.*, got "1M"$/);
  });

  it.each([
    ['ftp://10.0.0.1:7400', 'scheme "ftp" is not http or https'],
    ['http://10.0.0.1', 'the port is missing'],
    ['http://10.0.0.1:7400/api', 'no path, query or fragment'],
    ['http://user:pw@10.0.0.1:7400', 'credentials do not belong in the URL'],
    ['http://0.0.0.0:7400', 'cannot be connected to'],
    ['http://10.0.0.1:70000', 'port 70000 is not in 1..65535'],
    ['10.0.0.1:7400', 'expected an http or https URL'],
  ])('a bad advertise-url %s', (url, why) => {
    const issue = issueFor(issues({ argv: ['--advertise-url', url] }), 'advertise-url');
    expect(issue.message).toContain(why);
  });

  it.each([
    ['127.0.0.1', 'expected host:port'],
    ['http://127.0.0.1:7400', 'not a URL'],
    ['127.0.0.1:0', 'port 0 is not in 1..65535'],
    ['300.1.1.1:7400', '"300.1.1.1" is not a valid host'],
    ['[zz]:7400', '"zz" is not a valid host'],
  ])('a bad listen address %s', (listen, why) => {
    const issue = issueFor(issues({ argv: ['--listen', listen] }), 'listen');
    expect(issue.message).toContain(why);
  });

  it('a bad value overridden by a higher source is still reported, so a shared file stays valid', () => {
    const all = issues({ yaml: 'heartbeat-interval: soon\n', argv: ['--heartbeat-interval', '50ms'] });
    expect(issueFor(all, 'heartbeat-interval').source).toBe('file');
  });
});

describe('config issues - settings that contradict each other', () => {
  it('election-timeout below 5 × heartbeat-interval names both values and their sources', () => {
    const issue = issueFor(
      issues({ argv: ['--election-timeout', '400ms'], env: { CONCLAVE_HEARTBEAT_INTERVAL: '100ms' } }),
      'election-timeout',
    );
    expect(issue).toMatchObject({ code: 'conflict', source: 'flag', sourceDetail: '--election-timeout' });
    expect(issue.message).toContain('at least 5 × heartbeat-interval');
    expect(issue.message).toContain('heartbeat-interval is 100ms (env CONCLAVE_HEARTBEAT_INTERVAL)');
    expect(issue.message).toContain('election-timeout must be ≥ 500ms, got 400ms (flag --election-timeout)');
  });

  it('when only heartbeat-interval was given, the issue is reported against it', () => {
    const issue = issueFor(issues({ yaml: 'heartbeat-interval: 1s\n' }), 'heartbeat-interval');
    expect(issue).toMatchObject({ code: 'conflict', source: 'file' });
    expect(issue.message).toContain('got 500ms (default)');
  });

  it('exactly 5 × heartbeat-interval is allowed', () => {
    expect(
      load({ argv: ['--heartbeat-interval', '200ms', '--election-timeout', '1s'] }).electionTimeoutMs,
    ).toBe(1000);
  });

  it('max-value-bytes above max-request-bytes', () => {
    const issue = issueFor(issues({ argv: ['--max-request-bytes', '64KiB'] }), 'max-request-bytes');
    expect(issue.message).toContain('expected max-value-bytes ≤ max-request-bytes');
  });
});

describe('config issues - the config file', () => {
  it('a missing file names the path and where it was given', () => {
    const cwd = tempDir();
    const all = issues({ cwd, argv: ['--config-file', 'nope.yaml'] });
    expect(all).toEqual([
      {
        code: 'unreadable_file',
        key: 'config-file',
        source: 'flag',
        sourceDetail: '--config-file',
        message: `cannot read the config file ${cwd}/nope.yaml: file not found`,
      },
    ]);
  });

  it('a directory given as config file', () => {
    const cwd = tempDir();
    const issue = issueFor(issues({ cwd, env: { CONCLAVE_CONFIG_FILE: cwd } }), 'config-file');
    expect(issue).toMatchObject({ source: 'env', sourceDetail: 'CONCLAVE_CONFIG_FILE' });
    expect(issue.message).toContain('is a directory');
  });

  it('a YAML syntax error gives file, line and column', () => {
    const cwd = tempDir();
    const issue = issueFor(
      issues({ cwd, yaml: 'name: n1\njoin: [http://a:1,\nrole: primary\n' }),
      'config-file',
    );
    expect(issue.code).toBe('invalid_file');
    expect(issue.source).toBe('file');
    expect(issue.sourceDetail).toBe(`${cwd}/conclave.yaml:3:1`);
    expect(issue.message).toMatch(/^not valid YAML at line 3, column 1: /);
  });

  it('a duplicated key is a YAML error at the second occurrence', () => {
    const cwd = tempDir();
    const issue = issueFor(issues({ cwd, yaml: 'name: n1\nrole: primary\nname: n2\n' }), 'config-file');
    expect(issue.sourceDetail).toBe(`${cwd}/conclave.yaml:3:1`);
    expect(issue.message).toContain('unique');
  });

  it('a file that is not a map of settings', () => {
    const issue = issueFor(issues({ yaml: '- name: n1\n' }), 'config-file');
    expect(issue.message).toBe('expected a map of settings (key: value lines), got a list');
  });
});

describe('config issues - reporting', () => {
  it('reports every problem at once, from every source', () => {
    const err = loadError({
      yaml: 'clustr-name: x\nmax-key-bytes: lots\n',
      env: { CONCLAVE_LOG_LEVEL: 'chatty', CONCLAVE_NOPE: '1' },
      argv: ['--minimum-nodes', '-1', '--election-timeout', '10ms'],
    });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe(CONFIG_INVALID);
    expect(err.issues.map((i) => [i.key, i.source])).toEqual([
      ['CONCLAVE_NOPE', 'env'],
      ['clustr-name', 'file'],
      ['minimum-nodes', 'flag'],
      ['log-level', 'env'],
      ['max-key-bytes', 'file'],
      ['election-timeout', 'flag'],
    ]);
  });

  it('formatConfigError names each key, its source and the expectation', () => {
    const cwd = tempDir();
    const err = loadError({ cwd, yaml: 'clustr-name: x\n', argv: ['--heartbeat-interval', 'soon'] });
    expect(formatConfigError(err)).toBe(
      [
        'invalid configuration: 2 problems',
        `  - clustr-name (file ${cwd}/conclave.yaml:1): unknown setting; did you mean \`cluster-name\`?`,
        '  - heartbeat-interval (flag --heartbeat-interval): expected a duration such as 150ms, 2s, 1m or 1m30s (units ms, s, m, h; a plain integer is milliseconds), got "soon"',
      ].join('\n'),
    );
    expect(err.message).toBe(formatConfigError(err));
  });

  it('never shows the secret in a message', () => {
    const secret = 'hunter2-hunter2';
    const err = loadError({
      argv: ['--secret', secret, '--secret', `${secret}!`],
      env: { CONCLAVE_SECRET: secret },
    });
    expect(formatConfigError(err)).not.toContain('hunter2');
    expect(err.issues.length).toBeGreaterThan(0);
  });

  it('a valid file shared by a node passes with a secret', () => {
    expect(
      load({ yaml: `listen: 0.0.0.0:7400\nadvertise-url: http://10.0.0.9:7400\nsecret: ${SECRET}\n` }).secret,
    ).toBe(SECRET);
  });
});

describe('config issues - edge cases', () => {
  it('an alias to a missing anchor is reported at its line', () => {
    const cwd = tempDir();
    const issue = issueFor(issues({ cwd, yaml: 'role: primary\nname: *missing\n' }), 'name');
    expect(issue).toMatchObject({ code: 'invalid_file', sourceDetail: `${cwd}/conclave.yaml:2` });
  });

  it('an unknown short flag group is reported once, as written', () => {
    expect(issues({ argv: ['-xv'] }).map((i) => [i.key, i.code])).toEqual([['-xv', 'unknown_setting']]);
  });

  it('a lower-case CONCLAVE variable is told the upper-case spelling', () => {
    const issue = issueFor(issues({ env: { conclave_log_level: 'info' } }), 'conclave_log_level');
    expect(issue.message).toContain('upper case: CONCLAVE_LOG_LEVEL');
  });

  it('a bad initial-cluster does not also produce a complaint about advertise-url', () => {
    const all = issues({
      argv: ['--name', 'n1', '--listen', '0.0.0.0:7400', '--initial-cluster', 'n1=http://0.0.0.0:7400'],
      env: { CONCLAVE_SECRET: SECRET },
    });
    expect(all.map((i) => i.key)).toEqual(['initial-cluster']);
  });
});

describe('config - redactConfig', () => {
  it('replaces the secret for logging', () => {
    const config = load({ env: { CONCLAVE_SECRET: SECRET } });
    expect(JSON.stringify(redactConfig(config))).not.toContain(SECRET);
    expect(redactConfig(config).secret).toBe('[redacted]');
    expect(redactConfig(load()).secret).toBeUndefined();
  });
});
