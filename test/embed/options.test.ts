// startNode's options in this very process: named options and `settings` combine as documented,
// bad options are a ConfigError naming each, and a stopped node's local state refuses use.
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, startNode } from '../../src/index.js';
import { freePorts } from '../server/process-cluster.js';

const root = mkdtempSync(join(tmpdir(), 'conclave-embed-options-'));

describe('startNode options', () => {
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('takes any setting by its file key, and a named option given wins over it', async () => {
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port}`;
    const dataDir = join(root, 'by-settings');
    const node = await startNode({
      name: 'solo',
      settings: {
        'data-dir': dataDir,
        'cluster-name': 'from-settings',
        listen: `127.0.0.1:${port}`,
        'initial-cluster': `solo=${url}`,
        'heartbeat-interval': '20ms',
        'election-timeout': '200ms',
        'log-level': 'silent',
      },
      clusterName: 'named-wins',
    });
    try {
      const status = await node.status();
      expect(status.cluster).toBe('named-wins');
      expect(existsSync(join(dataDir, 'conclave.db'))).toBe(true);
      const put = await node.put('k', 'v');
      await node.local.waitForRevision(put.revision);
      expect(node.local.get('k')?.value).toBe('v');
    } finally {
      await node.stop();
    }
    expect(() => node.local.get('k')).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }) as Error);
    expect(() => node.local.onChange({ prefix: '' }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'SHUTTING_DOWN' }) as Error,
    );
    await node.stop(); // idempotent
  });

  it('reports every bad option at once, naming where it came from, and starts nothing', async () => {
    const error = await startNode({
      listen: 'not a listen address',
      settings: { 'no-such-setting': 1, 'heartbeat-interval': 'soon' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.key).sort()).toEqual(['heartbeat-interval', 'listen', 'no-such-setting']);
    expect(issues.every((i) => i.source === 'option')).toBe(true);
    expect(issues.find((i) => i.key === 'no-such-setting')?.sourceDetail).toBe(
      'startNode({ no-such-setting })',
    );
  });
});
