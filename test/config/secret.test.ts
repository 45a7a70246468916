import { describe, expect, it } from 'vitest';
import { issueFor, issues, load, SECRET, tempDir, writeFile } from './helpers.js';

describe('secret - sources', () => {
  it('secret-file is read at load time, its trailing newline trimmed, relative to cwd', () => {
    const cwd = tempDir();
    writeFile(cwd, 'secret.txt', `${SECRET}\n`);
    expect(load({ cwd, argv: ['--secret-file', 'secret.txt'] }).secret).toBe(SECRET);
    writeFile(cwd, 'crlf.txt', `${SECRET}\r\n`);
    expect(load({ cwd, yaml: 'secret-file: crlf.txt\n' }).secret).toBe(SECRET);
  });

  it('secret and secret-file from one source conflict', () => {
    const cwd = tempDir();
    writeFile(cwd, 'secret.txt', SECRET);
    const issue = issueFor(issues({ cwd, yaml: `secret: ${SECRET}\nsecret-file: secret.txt\n` }), 'secret');
    expect(issue.code).toBe('conflict');
    expect(issue.source).toBe('file');
    expect(issue.sourceDetail).toBe(`${cwd}/conclave.yaml:1 and ${cwd}/conclave.yaml:2`);
    expect(issue.message).toContain('secret and secret-file are exclusive');
  });

  it('from different sources, the higher one wins and the other file is not read', () => {
    const cwd = tempDir();
    const other = 'another-secret-of-enough-length';
    expect(
      load({ cwd, yaml: 'secret-file: /nonexistent/secret\n', env: { CONCLAVE_SECRET: other } }).secret,
    ).toBe(other);
    writeFile(cwd, 'secret.txt', SECRET);
    expect(load({ cwd, argv: ['--secret-file', 'secret.txt'], env: { CONCLAVE_SECRET: other } }).secret).toBe(
      SECRET,
    );
  });
});

describe('secret - issues', () => {
  it('a secret shorter than 16 characters', () => {
    const issue = issueFor(issues({ env: { CONCLAVE_SECRET: 'tooshort' } }), 'secret');
    expect(issue).toEqual({
      code: 'invalid_value',
      key: 'secret',
      source: 'env',
      sourceDetail: 'CONCLAVE_SECRET',
      message: 'expected a secret of at least 16 characters, the secret has 8',
    });
  });

  it('a short secret in a file', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'secret.txt', 'short\n');
    const issue = issueFor(issues({ cwd, argv: ['--secret-file', path] }), 'secret-file');
    expect(issue.message).toBe(`expected a secret of at least 16 characters, the secret in ${path} has 5`);
  });

  it('a secret file of several lines', () => {
    const cwd = tempDir();
    writeFile(cwd, 'secret.txt', `${SECRET}\n${SECRET}\n`);
    const issue = issueFor(issues({ cwd, argv: ['--secret-file', 'secret.txt'] }), 'secret-file');
    expect(issue.message).toContain('contains a control character');
  });

  it('a missing secret file', () => {
    const cwd = tempDir();
    const issue = issueFor(issues({ cwd, env: { CONCLAVE_SECRET_FILE: 'gone.txt' } }), 'secret-file');
    expect(issue).toMatchObject({
      code: 'unreadable_file',
      source: 'env',
      sourceDetail: 'CONCLAVE_SECRET_FILE',
    });
    expect(issue.message).toBe(`cannot read the secret file ${cwd}/gone.txt: file not found`);
  });

  it('no secret is allowed on loopback addresses only, and the message says why', () => {
    for (const listen of ['127.0.0.1:7400', '127.1.2.3:7400', 'localhost:7400', '[::1]:7400']) {
      expect(load({ argv: ['--listen', listen] }).secret).toBeUndefined();
    }
    const issue = issueFor(issues({ yaml: 'listen: 192.168.1.10:7400\n' }), 'secret');
    expect(issue).toMatchObject({ code: 'missing_value', source: 'default', sourceDetail: 'not set' });
    expect(issue.message).toContain('listen 192.168.1.10:7400 (file');
    expect(issue.message).toContain('is not a loopback address: without one, anyone who can reach that port');
  });
});
