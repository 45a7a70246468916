import { describe, expect, it } from 'vitest';
import { issueFor, issues, load } from './helpers.js';

describe('config - secondary and snapshot settings', () => {
  it('reads them from flags, env and file', () => {
    const config = load({
      argv: [
        '--role',
        'secondary',
        '--join',
        'http://10.0.0.1:7400',
        '--join-retries',
        '2',
        '--state-file',
        's.bin',
      ],
      env: { CONCLAVE_JOIN_TIMEOUT: '3s', CONCLAVE_SNAPSHOT_COMPRESSION: '-1' },
      yaml: 'member-heartbeat-interval: 2s\n',
    });
    expect(config).toMatchObject({
      role: 'secondary',
      join: ['http://10.0.0.1:7400'],
      joinRetries: 2,
      joinTimeoutMs: 3_000,
      snapshotCompression: -1,
      memberHeartbeatIntervalMs: 2_000,
    });
    expect(config.stateFile).toMatch(/\/s\.bin$/);
  });

  it('refuses values out of range, naming the setting', () => {
    const all = issues({
      argv: ['--snapshot-compression', '10', '--join-retries', '-1', '--member-heartbeat-interval', '5ms'],
    });
    expect(issueFor(all, 'snapshot-compression').message).toContain('at most 9');
    expect(issueFor(all, 'join-retries').message).toContain('≥ 0');
    expect(issueFor(all, 'member-heartbeat-interval').message).toContain('at least');
  });
});
