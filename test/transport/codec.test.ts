import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, EntryType, Message } from '../../src/raft/types.js';
import { CodecError, decodeMessages, encodeMessages } from '../../src/transport/codec.js';

const MAX = Number.MAX_SAFE_INTEGER;
const HEADER = [0x43, 0x52, 0x4d, 0x31]; // 'CRM1'
const enc = new TextEncoder();

function roundTrip(messages: readonly Message[]): void {
  expect(decodeMessages(encodeMessages(messages))).toStrictEqual(messages);
}

/** A batch from raw parts: the header, then the given bytes. */
function raw(...bytes: number[]): Uint8Array {
  return Uint8Array.from([...HEADER, ...bytes]);
}

function codecError(bytes: Uint8Array): CodecError {
  try {
    decodeMessages(bytes);
  } catch (e) {
    if (e instanceof CodecError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

function expectBad(bytes: Uint8Array, offset: number, message: RegExp): void {
  const e = codecError(bytes);
  expect(e.code).toBe('BAD_PEER_MESSAGE');
  expect(e.name).toBe('CodecError');
  expect(e.offset).toBe(offset);
  expect(e.message).toMatch(message);
  expect(e.message).toContain(`at byte ${offset}`);
}

function entries(first: number, term: number, datas: readonly string[]): Entry[] {
  return datas.map((d, i) => ({ index: first + i, term, type: 'normal', data: enc.encode(d) }));
}

const base = { from: 'n1', to: 'n2', term: 3 } as const;

describe('codec - round trips', () => {
  it('every message type with representative values', () => {
    const messages: Message[] = [
      { ...base, type: 'append', index: 4, logTerm: 2, commit: 4, entries: entries(5, 3, ['a', 'bc', '']) },
      { ...base, type: 'append', index: 9, logTerm: 3, commit: 9, entries: [] },
      { ...base, type: 'appendResponse', index: 7, reject: false, hint: 0, hintTerm: 0 },
      { ...base, type: 'appendResponse', index: 7, reject: true, hint: 5, hintTerm: 2 },
      { ...base, type: 'heartbeat', commit: 12, readSeq: 0 },
      { ...base, type: 'heartbeatResponse', readSeq: 4 },
      { ...base, type: 'vote', lastIndex: 10, lastTerm: 2, transfer: false },
      { ...base, type: 'preVote', lastIndex: 10, lastTerm: 2, transfer: true },
      { ...base, type: 'voteResponse', reject: false },
      { ...base, type: 'preVoteResponse', reject: true },
      {
        ...base,
        type: 'snapshot',
        meta: { index: 100, term: 3, conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } },
        offset: 0,
        totalBytes: 10,
        data: Uint8Array.from([1, 2, 3, 4]),
      },
      { ...base, type: 'snapshotResponse', snapshotIndex: 100, received: 4 },
      { ...base, type: 'timeoutNow' },
      { ...base, type: 'readIndex', context: 'read-42' },
      { ...base, type: 'readIndexResponse', context: 'read-42', index: 17 },
    ];
    roundTrip(messages);
    for (const m of messages) roundTrip([m]);
  });

  it('an empty batch', () => {
    const bytes = encodeMessages([]);
    expect([...bytes]).toEqual([...HEADER, 0, 0]);
    expect(decodeMessages(bytes)).toEqual([]);
  });

  it('edge values: zero, max safe integers, empty data and chunks, empty strings', () => {
    const zero = { from: '', to: '', term: 0 } as const;
    const max = { from: 'n1', to: 'n2', term: MAX } as const;
    roundTrip([
      { ...zero, type: 'append', index: 0, logTerm: 0, commit: 0, entries: [] },
      {
        ...max,
        type: 'append',
        index: MAX - 2,
        logTerm: MAX,
        commit: MAX,
        entries: entries(MAX - 1, MAX, ['', 'x']),
      },
      {
        ...max,
        type: 'append',
        index: 0,
        logTerm: 0,
        commit: 0,
        entries: [{ index: MAX, term: MAX, type: 'conf', data: new Uint8Array(0) }],
      },
      { ...zero, type: 'appendResponse', index: 0, reject: false, hint: 0, hintTerm: 0 },
      { ...max, type: 'appendResponse', index: MAX, reject: true, hint: MAX, hintTerm: MAX },
      { ...max, type: 'heartbeat', commit: MAX, readSeq: MAX },
      { ...max, type: 'vote', lastIndex: MAX, lastTerm: MAX, transfer: true },
      {
        ...zero,
        type: 'snapshot',
        meta: { index: 0, term: 0, conf: { voters: [], learners: [] } },
        offset: 0,
        totalBytes: 0,
        data: new Uint8Array(0),
      },
      {
        ...max,
        type: 'snapshot',
        meta: { index: MAX, term: MAX, conf: { voters: ['n1'], learners: [] } },
        offset: MAX,
        totalBytes: MAX,
        data: new Uint8Array(0),
      },
      { ...max, type: 'snapshotResponse', snapshotIndex: MAX, received: MAX },
      { ...zero, type: 'readIndex', context: '' },
      { ...max, type: 'readIndexResponse', context: '', index: MAX },
    ]);
  });

  it('unicode node ids and contexts, including a leading BOM and astral characters', () => {
    const ids = ['nœud-1', 'узел', '节点', '🦀-n', '\uFEFFbom', 'a\u0000b'];
    const messages: Message[] = ids.map((id, i) => ({
      type: 'readIndexResponse',
      from: id,
      to: ids[(i + 1) % ids.length]!,
      term: i,
      context: `ctx ${id} ✓ \u{10FFFF}`,
      index: i,
    }));
    roundTrip(messages);
  });

  it('entries that are not consecutive after index round-trip with explicit indices', () => {
    const e: Entry[] = [
      { index: 10, term: 1, type: 'normal', data: Uint8Array.from([1]) },
      { index: 3, term: 9, type: 'conf', data: Uint8Array.from([2]) },
      { index: 11, term: 1, type: 'normal', data: new Uint8Array(0) },
    ];
    const m: Message = { ...base, type: 'append', index: 9, logTerm: 1, commit: 0, entries: e };
    roundTrip([m]);
    // One more entry-index varint each than the consecutive layout.
    const consecutive: Message = { ...m, entries: e.map((x, i) => ({ ...x, index: 10 + i })) };
    expect(encodeMessages([m]).length).toBe(encodeMessages([consecutive]).length + 3);
    roundTrip([consecutive]);
  });

  it('arbitrary valid messages round-trip (property)', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 12 }), (messages) => {
        roundTrip(messages);
      }),
      { numRuns: 500 },
    );
  });
});

describe('codec - format', () => {
  it('pins the bytes of a small batch (node ids interned in order of first use)', () => {
    const bytes = encodeMessages([
      { type: 'heartbeat', from: 'n1', to: 'n2', term: 5, commit: 300, readSeq: 0 },
      { type: 'voteResponse', from: 'n2', to: 'n1', term: 5, reject: true },
    ]);
    // prettier-ignore
    expect([...bytes]).toEqual([
      ...HEADER,
      2, 2, 0x6e, 0x31, 2, 0x6e, 0x32, // node-id table: "n1", "n2"
      2, // two messages
      3, 0, 1, 5, 0xac, 0x02, 0, // heartbeat n1->n2 term 5 commit 300 readSeq 0
      7, 1, 0, 5, 1, // voteResponse n2->n1 term 5 reject
    ]);
  });

  it('writes consecutive entries without their indices', () => {
    const m: Message = {
      ...base,
      type: 'append',
      index: 4,
      logTerm: 2,
      commit: 4,
      entries: entries(5, 3, ['ab']),
    };
    // prettier-ignore
    expect([...encodeMessages([m])]).toEqual([
      ...HEADER, 2, 2, 0x6e, 0x31, 2, 0x6e, 0x32, 1,
      1, 0, 1, 3, 4, 2, 4, // append n1->n2 term 3 index 4 logTerm 2 commit 4
      1, 0, // one entry, consecutive layout
      3, 0, 2, 0x61, 0x62, // term 3, normal, data "ab"
    ]);
  });

  it('a batch of 512 appends of one 64-byte entry is about 80 bytes per message', () => {
    const batch = bigBatch();
    const bytes = encodeMessages(batch);
    expect(bytes.length).toBeLessThanOrEqual(512 * 80 + 16);
    expect(decodeMessages(bytes)).toStrictEqual(batch);
  });

  it('decoded data are zero-copy views of the input, plain Uint8Arrays even for a Buffer input', () => {
    const m: Message = {
      ...base,
      type: 'append',
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: entries(1, 1, ['hello']),
    };
    const bytes = Buffer.from(encodeMessages([m]));
    const [decoded] = decodeMessages(bytes);
    if (decoded?.type !== 'append') throw new Error('expected an append');
    const data = decoded.entries[0]!.data;
    expect(Object.getPrototypeOf(data)).toBe(Uint8Array.prototype);
    expect(data.buffer).toBe(bytes.buffer);
    bytes[bytes.length - 1] = 0x21; // '!'
    expect(new TextDecoder().decode(data)).toBe('hell!');
  });
});

describe('codec - encoder refuses what it cannot encode faithfully', () => {
  const cases: [string, Message][] = [
    ['negative term', { ...base, term: -1, type: 'timeoutNow' }],
    ['fractional index', { ...base, type: 'snapshotResponse', snapshotIndex: 1.5, received: 0 }],
    ['NaN', { ...base, type: 'heartbeat', commit: NaN, readSeq: 0 }],
    ['unsafe integer', { ...base, type: 'heartbeatResponse', readSeq: MAX + 1 }],
    ['Infinity', { ...base, type: 'vote', lastIndex: Infinity, lastTerm: 0, transfer: false }],
    [
      'bad entry term',
      {
        ...base,
        type: 'append',
        index: 0,
        logTerm: 0,
        commit: 0,
        entries: [{ ...entries(1, 1, ['x'])[0]!, term: -3 }],
      },
    ],
    [
      'bad explicit entry index',
      {
        ...base,
        type: 'append',
        index: 0,
        logTerm: 0,
        commit: 0,
        entries: [{ ...entries(1, 1, ['x'])[0]!, index: -1 }],
      },
    ],
    ['lone surrogate in a context', { ...base, type: 'readIndex', context: 'a\uD800b' }],
    ['lone surrogate in a node id', { ...base, from: '\uDC00', type: 'timeoutNow' }],
    ['reversed surrogates', { ...base, type: 'readIndex', context: '\uDC00\uD800' }],
    [
      'lone surrogate in a voter',
      {
        ...base,
        type: 'snapshot',
        meta: { index: 1, term: 1, conf: { voters: ['\uD83D'], learners: [] } },
        offset: 0,
        totalBytes: 0,
        data: new Uint8Array(0),
      },
    ],
    [
      'chunk past totalBytes',
      {
        ...base,
        type: 'snapshot',
        meta: { index: 1, term: 1, conf: { voters: ['n1'], learners: [] } },
        offset: 8,
        totalBytes: 10,
        data: new Uint8Array(3),
      },
    ],
    ['unknown type', { ...base, type: 'bogus' } as unknown as Message],
  ];
  for (const [name, m] of cases) {
    it(name, () => {
      expect(() => encodeMessages([{ ...base, type: 'timeoutNow' }, m])).toThrow(/cannot encode message #1/);
      expect(() => encodeMessages([m])).toThrow(RangeError);
    });
  }
});

describe('codec - malformed input', () => {
  // A valid table of two ids ("n1", "n2") and the start of one heartbeat n1->n2 term 1.
  const table = [2, 2, 0x6e, 0x31, 2, 0x6e, 0x32];
  const hb = [3, 0, 1, 1];

  it('empty input, bad magic, unknown version, truncated header', () => {
    expectBad(new Uint8Array(0), 0, /truncated/);
    expectBad(Uint8Array.from([0x43, 0x52]), 2, /truncated/);
    expectBad(Uint8Array.from([0x43, 0x52, 0x4d]), 3, /truncated/);
    expectBad(Uint8Array.from([0x7b, 0x22]), 0, /bad magic/); // '{"': JSON sent to the wrong port
    expectBad(Uint8Array.from([0x43, 0x52, 0x4e, 0x31, 0, 0]), 2, /bad magic/);
    expectBad(Uint8Array.from([0x43, 0x52, 0x4d, 0x32, 0, 0]), 3, /unsupported version byte 0x32/);
    expectBad(Uint8Array.from([0x43, 0x52, 0x4d, 0x01, 0, 0]), 3, /unsupported version/);
  });

  it('missing counts and trailing garbage', () => {
    expectBad(raw(), 4, /node-id table size: truncated/);
    expectBad(raw(0), 5, /message count: truncated/);
    expectBad(raw(0, 0, 0), 6, /1 trailing bytes/);
    expectBad(raw(...table, 1, ...hb, 0, 0, 0xff), 18, /1 trailing bytes/);
  });

  it('unknown message, entry and layout types; bad booleans', () => {
    expectBad(raw(...table, 1, 0, 0, 1, 1), 12, /message #0: type: unknown message type 0/);
    expectBad(raw(...table, 1, 14, 0, 1, 1), 12, /unknown message type 14/);
    expectBad(raw(...table, 1, 0xff, 0, 1, 1), 12, /unknown message type 255/);
    // append index 0 logTerm 0 commit 0, 1 entry, layout 2
    expectBad(raw(...table, 1, 1, 0, 1, 1, 0, 0, 0, 1, 2, 1, 0, 0), 20, /\(append\): entry layout: unknown/);
    // entry type 2
    expectBad(raw(...table, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 2, 0), 22, /entry type: unknown entry type 2/);
    // voteResponse reject = 2
    expectBad(
      raw(...table, 1, 7, 0, 1, 1, 2),
      16,
      /\(voteResponse\): reject: a boolean must be 0 or 1, got 2/,
    );
    expectBad(raw(...table, 1, 5, 0, 1, 1, 0, 0, 0xff), 18, /transfer: a boolean/);
  });

  it('varints: too long, above MAX_SAFE_INTEGER, not minimal, truncated', () => {
    const maxSafe = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    const ok = decodeMessages(raw(...table, 1, 4, 0, 1, ...maxSafe, 0));
    expect(ok).toEqual([{ type: 'heartbeatResponse', from: 'n1', to: 'n2', term: MAX, readSeq: 0 }]);
    expectBad(
      raw(...table, 1, 4, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0),
      15,
      /MAX_SAFE_INTEGER/,
    );
    expectBad(raw(...table, 1, 4, 0, 1, ...Array<number>(8).fill(0x80), 0x01, 0), 15, /longer than 8 bytes/);
    expectBad(raw(...table, 1, 4, 0, 1, 0x80, 0x00, 0), 15, /term: varint is not minimally encoded/);
    expectBad(raw(...table, 1, 4, 0, 1, 0x85, 0x80, 0x00, 0), 15, /not minimally encoded/);
    expectBad(raw(...table, 1, 4, 0, 1, 0x85, 0x80), 15, /term: truncated varint/);
    expectBad(raw(...table, 1, 4, 0, 1, 1), 16, /readSeq: truncated/);
  });

  it('lengths and counts beyond the input; nothing is allocated from them', () => {
    const huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    expectBad(raw(...huge), 4, /node-id table size: count 9007199254740991 cannot fit/);
    expectBad(raw(0, ...huge), 5, /message count: count \d+ cannot fit in the 0 remaining/);
    expectBad(raw(0, 2, 11, 0, 0, 1, 11), 5, /message count: count 2 cannot fit/);
    expectBad(raw(1, 5, 0x61), 5, /node id: length 5 exceeds the 1 remaining bytes/);
    // append with 2^53-1 entries
    expectBad(raw(...table, 1, 1, 0, 1, 1, 0, 0, 0, ...huge), 19, /entry count: count \d+ cannot fit/);
    // entry data length beyond the input
    expectBad(raw(...table, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 200, 1, 1, 1), 23, /entry data: length 200/);
    // snapshot with a huge voter count
    expectBad(raw(...table, 1, 9, 0, 1, 1, 5, 1, ...huge), 18, /voter count: count \d+ cannot fit/);
    expectBad(raw(...table, 1, 12, 0, 1, 1, 0x80, 0x80, 0x01), 16, /context: length 16384 exceeds/);
  });

  it('a count check that exactly fits still needs the bytes', () => {
    // one message of 4 bytes claimed, 4 remain, but they are not a complete heartbeat
    expectBad(raw(0, 1, 3, 0, 0, 1), 7, /node-id reference 0 outside the table of 0/);
  });

  it('invalid UTF-8 in node ids and contexts', () => {
    expectBad(raw(1, 2, 0xc3, 0x28, 0), 6, /node id: invalid UTF-8/);
    expectBad(raw(1, 3, 0xed, 0xa0, 0x80, 0), 6, /invalid UTF-8/); // encoded surrogate
    expectBad(raw(1, 2, 0xc0, 0x80, 0), 6, /invalid UTF-8/); // overlong NUL
    expectBad(raw(1, 1, 0xff, 0), 6, /invalid UTF-8/);
    expectBad(
      raw(...table, 1, 12, 0, 1, 1, 3, 0x61, 0xe2, 0x82),
      17,
      /\(readIndex\): context: invalid UTF-8/,
    );
  });

  it('node-id references outside the table', () => {
    expectBad(
      raw(...table, 1, 3, 2, 1, 1, 0, 0),
      13,
      /\(heartbeat\): from: node-id reference 2 outside the table of 2/,
    );
    expectBad(raw(...table, 1, 3, 0, 9, 1, 0, 0), 14, /to: node-id reference 9/);
    expectBad(raw(...table, 1, 9, 0, 1, 1, 5, 1, 1, 7, 0, 0, 0, 0), 19, /voter: node-id reference 7/);
    expectBad(raw(...table, 1, 9, 0, 1, 1, 5, 1, 0, 1, 2, 0, 0, 0), 20, /learner: node-id reference 2/);
  });

  it('a snapshot chunk past its totalBytes', () => {
    // meta 5/1, no voters, no learners, offset 8, totalBytes 10, 3 bytes of data
    expectBad(raw(...table, 1, 9, 0, 1, 1, 5, 1, 0, 0, 8, 10, 3, 1, 2, 3), 22, /extends past totalBytes 10/);
    const ok = raw(...table, 1, 9, 0, 1, 1, 5, 1, 0, 0, 8, 10, 2, 1, 2);
    expect(decodeMessages(ok)).toHaveLength(1);
  });

  it('consecutive entry indices past MAX_SAFE_INTEGER', () => {
    const prev = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]; // MAX - 1
    // one entry at MAX: fine
    const ok = decodeMessages(raw(...table, 1, 1, 0, 1, 1, ...prev, 0, 0, 1, 0, 1, 0, 0));
    expect(ok[0]).toMatchObject({ entries: [{ index: MAX }] });
    expectBad(
      raw(...table, 1, 1, 0, 1, 1, ...prev, 0, 0, 2, 0, 1, 0, 0, 1, 0, 0),
      27,
      /exceed Number.MAX_SAFE_INTEGER/,
    );
  });

  it('a message cut short (missing fields) in the middle of a batch', () => {
    const two = encodeMessages([
      { ...base, type: 'appendResponse', index: 1, reject: false, hint: 0, hintTerm: 0 },
      { ...base, type: 'heartbeat', commit: 1, readSeq: 0 },
    ]);
    // Drop the heartbeat's readSeq and pretend the batch ends there.
    const cut = two.subarray(0, two.length - 1);
    expectBad(cut, cut.length, /message #1 \(heartbeat\): readSeq: truncated/);
  });
});

describe('codec - fuzz', () => {
  function decodeOrCodecError(bytes: Uint8Array): Message[] | undefined {
    try {
      return decodeMessages(bytes);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      // Plain checks: expect() per decode would dominate the run time.
      if (!(e.offset >= 0 && e.offset <= bytes.length)) {
        throw new Error(`CodecError offset ${e.offset} outside the ${bytes.length}-byte input`);
      }
      return undefined;
    }
  }

  /** Whatever decodes must be encodable again and decode to the same messages. */
  function checkDecoded(bytes: Uint8Array): boolean {
    const decoded = decodeOrCodecError(bytes);
    if (decoded === undefined) return false;
    expect(decodeMessages(encodeMessages(decoded))).toStrictEqual(decoded);
    return true;
  }

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        checkDecoded(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes after a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        checkDecoded(raw(...tail));
      }),
      { numRuns: 2000 },
    );
  });

  it('every strict prefix of a valid encoding is rejected', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 4 }), fc.nat(7), (messages, start) => {
        const bytes = encodeMessages(messages);
        // Every prefix of short encodings; every 8th (from a random start) of longer ones.
        const step = bytes.length > 200 ? 8 : 1;
        for (let n = bytes.length > 200 ? start : 0; n < bytes.length; n += step) {
          if (decodeOrCodecError(bytes.subarray(0, n)) !== undefined) {
            throw new Error(`a ${n}-byte prefix of a ${bytes.length}-byte encoding decoded`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('bit flips, byte overwrites, insertions and deletions in valid encodings', () => {
    const mutation = fc.record({
      kind: fc.constantFrom('flip', 'set', 'insert', 'delete'),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    });
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 6 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (messages, mutations) => {
          const bytes = Array.from(encodeMessages(messages));
          for (const { kind, at, value } of mutations) {
            const i = at % (bytes.length + 1);
            if (kind === 'insert') bytes.splice(i, 0, value);
            else if (i === bytes.length) continue;
            else if (kind === 'delete') bytes.splice(i, 1);
            else bytes[i] = kind === 'set' ? value : bytes[i]! ^ (1 << (value % 8));
          }
          if (checkDecoded(Uint8Array.from(bytes))) accepted++;
        },
      ),
      { numRuns: 2000 },
    );
    // Mutations inside data bytes stay valid: the fuzzing also exercised the success path.
    expect(accepted).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------- arbitraries

const uintArb = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32),
  fc.constantFrom(2 ** 35, 2 ** 49 - 1, 2 ** 49, 2 ** 52, MAX - 1, MAX),
  fc.nat(1000),
  fc.maxSafeNat(),
);
const nodeIdArb = fc.oneof(
  fc.constantFrom('n1', 'n2', 'n3', 'node-with-a-longer-name', ''),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const dataArb = fc.uint8Array({ maxLength: 40 });
const entryTypeArb = fc.constantFrom<EntryType>('normal', 'conf');
const headerArb = { from: nodeIdArb, to: nodeIdArb, term: uintArb };

const consecutiveAppendArb = fc
  .record({
    ...headerArb,
    index: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: MAX - 8 })),
    logTerm: uintArb,
    commit: uintArb,
    entries: fc.array(fc.record({ term: uintArb, type: entryTypeArb, data: dataArb }), { maxLength: 8 }),
  })
  .map((m): Message => ({
    ...m,
    type: 'append',
    entries: m.entries.map((e, i) => ({ ...e, index: m.index + 1 + i })),
  }));

const anyAppendArb = fc
  .record({
    ...headerArb,
    index: uintArb,
    logTerm: uintArb,
    commit: uintArb,
    entries: fc.array(
      fc.record(
        { index: uintArb, term: uintArb, type: entryTypeArb, data: dataArb },
        { noNullPrototype: true },
      ),
      { maxLength: 5 },
    ),
  })
  .map((m): Message => ({ ...m, type: 'append' }));

const snapshotArb = fc
  .record({
    ...headerArb,
    index: uintArb,
    metaTerm: uintArb,
    voters: fc.array(nodeIdArb, { maxLength: 5 }),
    learners: fc.array(nodeIdArb, { maxLength: 3 }),
    offset: fc.oneof(fc.nat(100), fc.integer({ min: 0, max: 2 ** 52 })),
    slack: fc.oneof(fc.constant(0), fc.nat(100), fc.integer({ min: 0, max: 2 ** 52 })),
    data: dataArb,
  })
  .map((s): Message => ({
    type: 'snapshot',
    from: s.from,
    to: s.to,
    term: s.term,
    meta: { index: s.index, term: s.metaTerm, conf: { voters: s.voters, learners: s.learners } },
    offset: s.offset,
    totalBytes: s.offset + s.data.length + s.slack,
    data: s.data,
  }));

const contextArb = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  consecutiveAppendArb,
  anyAppendArb,
  fc
    .record({ ...headerArb, index: uintArb, reject: fc.boolean(), hint: uintArb, hintTerm: uintArb })
    .map((m): Message => ({ ...m, type: 'appendResponse' })),
  fc
    .record({ ...headerArb, commit: uintArb, readSeq: uintArb })
    .map((m): Message => ({ ...m, type: 'heartbeat' })),
  fc.record({ ...headerArb, readSeq: uintArb }).map((m): Message => ({ ...m, type: 'heartbeatResponse' })),
  fc
    .record({
      ...headerArb,
      type: fc.constantFrom('vote' as const, 'preVote' as const),
      lastIndex: uintArb,
      lastTerm: uintArb,
      transfer: fc.boolean(),
    })
    .map((m): Message => ({ ...m })),
  fc
    .record({
      ...headerArb,
      type: fc.constantFrom('voteResponse' as const, 'preVoteResponse' as const),
      reject: fc.boolean(),
    })
    .map((m): Message => ({ ...m })),
  snapshotArb,
  fc
    .record({ ...headerArb, snapshotIndex: uintArb, received: uintArb })
    .map((m): Message => ({ ...m, type: 'snapshotResponse' })),
  fc.record(headerArb).map((m): Message => ({ ...m, type: 'timeoutNow' })),
  fc.record({ ...headerArb, context: contextArb }).map((m): Message => ({ ...m, type: 'readIndex' })),
  fc
    .record({ ...headerArb, context: contextArb, index: uintArb })
    .map((m): Message => ({ ...m, type: 'readIndexResponse' })),
);

/** 512 appends of one 64-byte entry each, as a leader's pipeline to one follower would send. */
function bigBatch(): Message[] {
  const out: Message[] = [];
  const data = new Uint8Array(64).fill(7);
  for (let i = 0; i < 512; i++) {
    const index = 1_000_000 + i;
    out.push({
      type: 'append',
      from: 'n1',
      to: 'n2',
      term: 7,
      index,
      logTerm: 7,
      commit: index,
      entries: [{ index: index + 1, term: 7, type: 'normal', data }],
    });
  }
  return out;
}
