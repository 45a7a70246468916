// The help text and docs/CONFIG.md against the settings table, and the docs' examples run for real.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configHelp, formatConfigError, SETTINGS } from '../../src/config/index.js';
import { load, loadError, SECRET, tempDir, writeFile } from './helpers.js';

const DOCS = readFileSync(fileURLToPath(new URL('../../docs/CONFIG.md', import.meta.url)), 'utf8');

/** The fenced block of `lang` that follows `heading` in the docs. */
function block(heading: string, lang: string, nth = 0): string {
  const after = DOCS.slice(DOCS.indexOf(heading));
  const blocks = [...after.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))];
  const found = blocks[nth]?.[1];
  if (found === undefined) throw new Error(`no ${lang} block after ${heading}`);
  return found;
}

describe('help - configHelp', () => {
  const help = configHelp();

  it('lists every setting with its flag, environment variable and default', () => {
    for (const s of SETTINGS) {
      expect(help).toContain(`${s.flag} <${s.placeholder}>`);
      expect(help).toContain(`env ${s.env}`);
      expect(help).toContain(`default: ${s.defaultText}`);
    }
  });

  it('also lists --config-file, its variable and --help', () => {
    expect(help).toContain('--config-file <path>');
    expect(help).toContain('env CONCLAVE_CONFIG_FILE');
    expect(help).toContain('-h, --help');
  });

  it('fits in 100 columns', () => {
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
});

describe('docs - CONFIG.md', () => {
  it('has a table row for every setting with its flag, variable, default and description', () => {
    for (const s of SETTINGS) {
      const row = DOCS.split('\n').find((line) => line.startsWith(`| \`${s.key}\` `));
      expect(row, s.key).toBeDefined();
      const plain = (row ?? '').replaceAll('`', '');
      expect(row).toContain(`\`${s.flag}\``);
      expect(row).toContain(`\`${s.env}\``);
      expect(plain).toContain(s.defaultText);
      expect(plain).toContain(s.description.replaceAll('`', ''));
    }
  });

  it('the shared three-node file loads for each node given only its name', () => {
    const cwd = tempDir();
    const secretPath = writeFile(cwd, 'secret', `${SECRET}\n`);
    const yaml = block('### One file, three primaries', 'yaml').replace('/etc/conclave/secret', secretPath);
    const urls = ['http://10.0.0.1:7400', 'http://10.0.0.2:7400', 'http://10.0.0.3:7400'];
    for (const [i, name] of ['n1', 'n2', 'n3'].entries()) {
      const c = load({ cwd, yaml, argv: ['--name', name] });
      expect(c.name).toBe(name);
      expect(c.advertiseUrl).toBe(urls[i]);
      expect(c.initialCluster.map((m) => m.url)).toEqual(urls);
      expect(c.secret).toBe(SECRET);
    }
    const secondary = load({
      cwd,
      yaml,
      argv: [
        '--name',
        'edge-1',
        '--role',
        'secondary',
        '--join',
        'http://10.0.0.1:7400,http://10.0.0.2:7400',
      ],
      env: { CONCLAVE_ADVERTISE_URL: 'http://10.0.1.7:7400' },
    });
    expect(secondary.join).toHaveLength(2);
  });

  it('the one-machine example loads without a secret', () => {
    const yaml = block('### Three primaries on one machine', 'yaml');
    const c = load({ yaml, argv: ['--name', 'n2', '--listen', '127.0.0.1:7402'] });
    expect(c.advertiseUrl).toBe('http://127.0.0.1:7402');
    expect(c.secret).toBeUndefined();
  });

  it('the error example is what formatConfigError prints', () => {
    const cwd = tempDir();
    const err = loadError({
      cwd,
      yaml: 'clustr-name: orders\n',
      argv: ['--heartbeat-interval', '300ms', '--listen', '10.0.0.1:7400'],
    });
    const printed = formatConfigError(err).replaceAll(`${cwd}/conclave.yaml`, '/etc/conclave/cluster.yaml');
    expect(`${printed}\n`).toBe(block('## Errors', 'text'));
  });
});
