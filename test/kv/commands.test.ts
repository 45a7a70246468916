import { describe, expect, it } from 'vitest';
import {
  COMMAND_FORMAT_JSON,
  decodeCommand,
  encodeCommand,
  MAX_KEY_BYTES,
  MAX_TXN_OPS,
  MAX_VALUE_BYTES,
  validateCommand,
  validateRangeOptions,
  type Command,
  type Op,
} from '../../src/kv/index.js';
import { expectKvError } from './helpers.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const tagged = (json: string): Uint8Array => new Uint8Array([COMMAND_FORMAT_JSON, ...text(json)]);

describe('kv commands - encoding', () => {
  const commands: Command[] = [
    { type: 'noop' },
    { type: 'put', key: 'a', value: 'héllo 😀', leaseId: 7, prevKv: true, requestId: 'r1' },
    { type: 'put', key: 'a', value: '' },
    { type: 'delete', key: 'a', prevKv: false },
    { type: 'deleteRange', prefix: 'dir/', requestId: 'r2' },
    {
      type: 'txn',
      compare: [
        { key: 'a', target: 'value', op: '=', value: 'x' },
        { key: 'b', target: 'modRevision', op: '<', value: 3 },
      ],
      success: [
        { type: 'put', key: 'a', value: 'y' },
        { type: 'get', key: 'a' },
        { type: 'range', prefix: 'a', limit: 2, keysOnly: true },
      ],
      failure: [
        { type: 'delete', key: 'b' },
        { type: 'deleteRange', prefix: 'c' },
      ],
      requestId: 'r3',
    },
    { type: 'compact', revision: 5 },
  ];

  it('round-trips every command type', () => {
    for (const cmd of commands) {
      const bytes = encodeCommand(cmd);
      expect(bytes[0]).toBe(COMMAND_FORMAT_JSON);
      expect(decodeCommand(bytes)).toEqual(cmd);
    }
  });

  it('decodes an empty payload (the Raft leader no-op) as noop', () => {
    expect(decodeCommand(new Uint8Array())).toEqual({ type: 'noop' });
  });

  it('rejects garbage with BAD_COMMAND', () => {
    const garbage: Uint8Array[] = [
      new Uint8Array([0x7b]), // no tag: starts with '{'
      new Uint8Array([0x02, 0x7b, 0x7d]), // unknown tag
      new Uint8Array([COMMAND_FORMAT_JSON]), // empty JSON
      new Uint8Array([COMMAND_FORMAT_JSON, 0xff, 0xfe]), // not UTF-8
      tagged('{"type":"put","key":"a"'), // truncated
      tagged('null'),
      tagged('[]'),
      tagged('{"type":"frobnicate"}'),
      tagged('{"type":"put","key":"a"}'), // no value
      tagged('{"type":"put","key":1,"value":"v"}'),
      tagged('{"type":"put","key":"a","value":"v","extra":true}'), // unknown field
      tagged(
        '{"type":"txn","compare":[{"key":"a","target":"value","op":"=","value":1}],"success":[],"failure":[]}',
      ),
      tagged('{"type":"txn","compare":[],"success":[{"type":"txn"}],"failure":[]}'),
      tagged('{"type":"put","key":"a","value":"v","leaseId":null}'),
    ];
    for (const bytes of garbage) {
      const err = expectKvError(() => decodeCommand(bytes), 'BAD_COMMAND');
      expect(err.message.length).toBeGreaterThan(0);
    }
  });

  it('names the offending field', () => {
    const err = expectKvError(
      () => decodeCommand(tagged('{"type":"put","key":"a","value":5}')),
      'BAD_COMMAND',
    );
    expect(err.message).toContain('value');
  });
});

describe('kv commands - validation', () => {
  const put = (key: string, value = 'v'): Command => ({ type: 'put', key, value });

  it('accepts keys up to MAX_KEY_BYTES of UTF-8 and refuses longer or empty ones', () => {
    validateCommand(put('k'.repeat(MAX_KEY_BYTES)));
    expectKvError(() => {
      validateCommand(put('k'.repeat(MAX_KEY_BYTES + 1)));
    }, 'KEY_TOO_LARGE');
    // 2 bytes per character in UTF-8: the limit is on bytes, not characters.
    expectKvError(() => {
      validateCommand(put('é'.repeat(MAX_KEY_BYTES / 2 + 1)));
    }, 'KEY_TOO_LARGE');
    expectKvError(() => {
      validateCommand(put(''));
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand({ type: 'delete', key: '' });
    }, 'INVALID_ARGUMENT');
  });

  it('refuses values over MAX_VALUE_BYTES', () => {
    validateCommand(put('k', 'v'.repeat(MAX_VALUE_BYTES)));
    expectKvError(() => {
      validateCommand(put('k', 'v'.repeat(MAX_VALUE_BYTES + 1)));
    }, 'VALUE_TOO_LARGE');
  });

  it('refuses lone surrogates, which UTF-8 cannot represent', () => {
    expectKvError(() => {
      validateCommand(put('a\ud800'));
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand(put('a', '\udc00'));
    }, 'INVALID_ARGUMENT');
    validateCommand(put('😀', '😀'));
  });

  it('checks request ids, lease ids and compact revisions', () => {
    expectKvError(() => {
      validateCommand({ type: 'put', key: 'a', value: 'v', requestId: '' });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand({ type: 'put', key: 'a', value: 'v', requestId: 'r'.repeat(257) });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand({ type: 'put', key: 'a', value: 'v', leaseId: 0 });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand({ type: 'put', key: 'a', value: 'v', leaseId: 1.5 });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand({ type: 'compact', revision: -1 });
    }, 'INVALID_ARGUMENT');
  });

  it('checks range options', () => {
    validateRangeOptions({});
    validateRangeOptions({ prefix: '' });
    validateRangeOptions({ start: 'a', end: 'b', after: 'a', limit: 1, keysOnly: true });
    expectKvError(() => {
      validateRangeOptions({ prefix: 'a', start: 'a' });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateRangeOptions({ limit: 0 });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateRangeOptions({ limit: 2.5 });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateRangeOptions({ keysOnly: true, countOnly: true });
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateRangeOptions({ start: 'k'.repeat(MAX_KEY_BYTES + 1) });
    }, 'KEY_TOO_LARGE');
  });

  it("applies etcd's txn rules: no key written twice in a branch, bounded size", () => {
    const txn = (success: Op[]): Command => ({ type: 'txn', compare: [], success, failure: [] });
    validateCommand(txn([put('a') as Op, { type: 'get', key: 'a' }, { type: 'delete', key: 'b' }]));
    validateCommand(
      txn([
        { type: 'delete', key: 'a' },
        { type: 'deleteRange', prefix: 'a' },
      ]),
    );
    expectKvError(() => {
      validateCommand(txn([put('a') as Op, put('a') as Op]));
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand(txn([put('a') as Op, { type: 'delete', key: 'a' }]));
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand(txn([{ type: 'deleteRange', prefix: 'd' }, put('dx') as Op]));
    }, 'INVALID_ARGUMENT');
    const many = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i): Op => ({ type: 'get', key: `k${i}` }));
    expectKvError(() => {
      validateCommand(txn(many));
    }, 'INVALID_ARGUMENT');
    expectKvError(() => {
      validateCommand({
        type: 'txn',
        compare: [{ key: 'a', target: 'version', op: '=', value: -1 }],
        success: [],
        failure: [],
      });
    }, 'INVALID_ARGUMENT');
  });
});
