// The replicated state machine: a small key-value store of registers, driven by committed
// entries. It applies every command exactly as written (no deduplication by request id), so a
// command applied twice would show up in the client history. It also keeps a running hash of
// every entry it applied (index, term, type, data), which lets the invariant checker compare
// states across nodes and snapshots in O(1).

import type { Entry } from '../raft/types.js';

export type Command =
  | { readonly kind: 'write'; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly key: string; readonly from: string | null; readonly to: string };

/** write: `true`; cas: whether it swapped. */
export type CommandOutput = boolean;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SEP = '|';
const ABSENT = '~';

/** `reqId` identifies the client request; keys and values never contain '|' or '~'. */
export function encodeCommand(reqId: string, cmd: Command): Uint8Array {
  const text =
    cmd.kind === 'write'
      ? [reqId, 'w', cmd.key, cmd.value].join(SEP)
      : [reqId, 'c', cmd.key, cmd.from ?? ABSENT, cmd.to].join(SEP);
  return encoder.encode(text);
}

export function decodeCommand(data: Uint8Array): { reqId: string; cmd: Command } | undefined {
  const parts = decoder.decode(data).split(SEP);
  const [reqId, op, key, a, b] = parts;
  if (reqId === undefined || key === undefined || a === undefined) return undefined;
  if (op === 'w' && parts.length === 4) return { reqId, cmd: { kind: 'write', key, value: a } };
  if (op === 'c' && b !== undefined && parts.length === 5) {
    return { reqId, cmd: { kind: 'cas', key, from: a === ABSENT ? null : a, to: b } };
  }
  return undefined;
}

// FNV-1a, 32 bits, fed word by word.
function mix(h: number, x: number): number {
  return Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
}

/** Hash of the applied prefix after `entry`, given the hash before it. */
export function chainHash(prev: number, entry: Entry): number {
  let h = mix(mix(mix(prev, entry.index), entry.term), entry.type === 'conf' ? 2 : 1);
  for (const byte of entry.data) h = mix(h, byte);
  return mix(h, entry.data.length);
}

/** Hash of an entry on its own, for comparing entries held by different logs. */
export function entryHash(entry: Entry): number {
  return chainHash(0x811c9dc5, entry);
}

export class KvStateMachine {
  /** Index of the last entry applied. */
  applied: number;
  /** Running hash of every entry applied up to `applied` (see chainHash). */
  chain: number;
  private readonly kv: Map<string, string>;

  constructor(applied = 0, chain = 0, kv = new Map<string, string>()) {
    this.applied = applied;
    this.chain = chain;
    this.kv = kv;
  }

  /** Restores from snapshot bytes; empty bytes mean the empty initial state. */
  static restore(data: Uint8Array): KvStateMachine {
    if (data.length === 0) return new KvStateMachine();
    const parsed = JSON.parse(decoder.decode(data)) as { a: number; h: number; kv: [string, string][] };
    return new KvStateMachine(parsed.a, parsed.h, new Map(parsed.kv));
  }

  serialize(): Uint8Array {
    return encoder.encode(JSON.stringify({ a: this.applied, h: this.chain, kv: [...this.kv] }));
  }

  get(key: string): string | null {
    return this.kv.get(key) ?? null;
  }

  /**
   * Applies the next entry (the caller checked entry.index === applied + 1). Returns the client
   * request it carried and its output, if it carried one.
   */
  apply(entry: Entry): { reqId: string; output: CommandOutput } | undefined {
    this.applied = entry.index;
    this.chain = chainHash(this.chain, entry);
    if (entry.type !== 'normal' || entry.data.length === 0) return undefined;
    const decoded = decodeCommand(entry.data);
    if (decoded === undefined) return undefined;
    const { reqId, cmd } = decoded;
    if (cmd.kind === 'write') {
      this.kv.set(cmd.key, cmd.value);
      return { reqId, output: true };
    }
    if (this.get(cmd.key) !== cmd.from) return { reqId, output: false };
    this.kv.set(cmd.key, cmd.to);
    return { reqId, output: true };
  }

  /** A compact rendering of the whole state, for convergence reports. */
  describe(): string {
    return `applied ${this.applied} hash ${this.chain.toString(16)} ${JSON.stringify([...this.kv].sort())}`;
  }
}
