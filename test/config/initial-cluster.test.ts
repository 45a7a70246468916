import { describe, expect, it } from 'vitest';
import { issueFor, issues, load, SECRET } from './helpers.js';

const MEMBERS = [
  { name: 'n1', url: 'http://10.0.0.1:7400' },
  { name: 'n2', url: 'http://10.0.0.2:7400' },
  { name: 'n3', url: 'https://n3.example.com:7443' },
];

describe('initial-cluster - forms', () => {
  it('name=url text from a flag or the environment', () => {
    const text = 'n1=http://10.0.0.1:7400, n2=http://10.0.0.2:7400,n3=https://N3.example.com:7443/';
    expect(load({ argv: ['--name', 'n1', '--initial-cluster', text] }).initialCluster).toEqual(MEMBERS);
    expect(load({ argv: ['--name', 'n1'], env: { CONCLAVE_INITIAL_CLUSTER: text } }).initialCluster).toEqual(
      MEMBERS,
    );
  });

  it('a YAML map, a list of name=url, a list of name: url, or one string', () => {
    const forms = [
      'initial-cluster:\n  n1: http://10.0.0.1:7400\n  n2: http://10.0.0.2:7400\n  n3: https://n3.example.com:7443\n',
      'initial-cluster:\n  - n1=http://10.0.0.1:7400\n  - n2=http://10.0.0.2:7400\n  - n3=https://n3.example.com:7443\n',
      'initial-cluster:\n  - n1: http://10.0.0.1:7400\n  - n2: http://10.0.0.2:7400\n  - n3: https://n3.example.com:7443\n',
      'initial-cluster: n1=http://10.0.0.1:7400,n2=http://10.0.0.2:7400,n3=https://n3.example.com:7443\n',
    ];
    for (const yaml of forms) expect(load({ yaml, argv: ['--name', 'n2'] }).initialCluster).toEqual(MEMBERS);
  });

  it("advertise-url defaults to this node's URL in initial-cluster", () => {
    const yaml = `listen: 0.0.0.0:7400\nsecret: ${SECRET}\ninitial-cluster: n1=http://10.0.0.1:7400,n2=http://10.0.0.2:7400\n`;
    expect(load({ yaml, argv: ['--name', 'n2'] }).advertiseUrl).toBe('http://10.0.0.2:7400');
  });

  it('an explicit empty value clears a file value', () => {
    const yaml = 'initial-cluster: n1=http://10.0.0.1:7400\n';
    expect(load({ yaml, argv: ['--initial-cluster='] }).initialCluster).toEqual([]);
  });
});

describe('initial-cluster - issues', () => {
  it('duplicate names and duplicate URLs', () => {
    const all = issues({
      argv: ['--name', 'n1', '--initial-cluster', 'n1=http://a:1,n1=http://b:1,n2=http://A:1/'],
    });
    expect(all.filter((i) => i.key === 'initial-cluster').map((i) => i.message)).toEqual([
      'duplicate name "n1": members "n1=http://a:1" and "n1=http://b:1"',
      'duplicate URL http://a:1: members "n1=http://a:1" and "n2=http://A:1/"',
    ]);
  });

  it('bad names and URLs, each reported', () => {
    const all = issues({
      yaml: 'initial-cluster:\n  -bad: http://a:1\n  n2: ftp://b:1\n  n3: 7\n',
    });
    const messages = all.filter((i) => i.key === 'initial-cluster').map((i) => i.message);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^member "-bad=http:\/\/a:1": expected a name of 1 to 63 letters/);
    expect(messages[1]).toContain('scheme "ftp" is not http or https');
    expect(messages[2]).toBe('expected a URL for member "n3", got the number 7');
  });

  it('a piece without =', () => {
    const issue = issueFor(issues({ argv: ['--initial-cluster', 'http://a:1'] }), 'initial-cluster');
    expect(issue.message).toBe('expected name=url, got "http://a:1"');
  });

  it('with state new, the name must be listed', () => {
    const issue = issueFor(
      issues({ argv: ['--name', 'n4', '--initial-cluster', 'n1=http://a:1,n2=http://b:1'] }),
      'name',
    );
    expect(issue).toMatchObject({ code: 'conflict', source: 'flag', sourceDetail: '--name' });
    expect(issue.message).toContain(
      '"n4" is not in initial-cluster (flag --initial-cluster), which lists n1, n2',
    );
  });

  it('with state existing, it need not be', () => {
    const c = load({
      argv: ['--name', 'n4', '--initial-cluster', 'n1=http://a:1', '--initial-cluster-state', 'existing'],
    });
    expect(c.initialClusterState).toBe('existing');
  });

  it('without a name, the node cannot find itself', () => {
    const issue = issueFor(issues({ argv: ['--initial-cluster', 'n1=http://a:1'] }), 'name');
    expect(issue).toMatchObject({ code: 'missing_value', source: 'default', sourceDetail: 'not set' });
    expect(issue.message).toContain('set name (e.g. --name n1)');
  });

  it('a secondary must not be listed among the primaries, but need not be', () => {
    const cluster = ['--initial-cluster', 'n1=http://a:1'];
    expect(issueFor(issues({ argv: ['--role', 'secondary', '--name', 'n1', ...cluster] }), 'name').code).toBe(
      'conflict',
    );
    expect(load({ argv: ['--role', 'secondary', '--name', 's1', ...cluster] }).role).toBe('secondary');
  });

  it('an advertise-url that differs from the initial-cluster entry', () => {
    const all = issues({
      argv: [
        '--name',
        'n1',
        '--initial-cluster',
        'n1=http://10.0.0.1:7400',
        '--advertise-url',
        'http://10.0.0.9:7400',
      ],
    });
    expect(issueFor(all, 'advertise-url').message).toContain(
      "differs from this node's URL in initial-cluster, n1=http://10.0.0.1:7400",
    );
  });

  it('listen on every interface without a way to derive advertise-url', () => {
    const issue = issueFor(
      issues({ argv: ['--listen', '0.0.0.0:7400'], env: { CONCLAVE_SECRET: SECRET } }),
      'advertise-url',
    );
    expect(issue).toMatchObject({ code: 'missing_value', source: 'default', sourceDetail: 'not set' });
    expect(issue.message).toContain('listen 0.0.0.0:7400 (flag --listen) binds every interface');
  });
});
