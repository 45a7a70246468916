// A deliberately simple in-memory model of the key-value state machine (etcd v3 semantics), to
// check KvStore against: a Map of pairs, a revision counter, a list of change events.

import type {
  ApplyResult,
  ChangeEvent,
  Command,
  Compare,
  KeyValue,
  Op,
  OpResponse,
  RangeOptions,
} from '../../src/kv/index.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const byteOrder = (a: string, b: string): number => Buffer.compare(bytes(a), bytes(b));

function inRange(key: string, o: RangeOptions): boolean {
  if (o.prefix !== undefined && !key.startsWith(o.prefix)) return false;
  if (o.start !== undefined && byteOrder(key, o.start) < 0) return false;
  if (o.end !== undefined && byteOrder(key, o.end) >= 0) return false;
  if (o.after !== undefined && byteOrder(key, o.after) <= 0) return false;
  return true;
}

function holds(order: number, op: Compare['op']): boolean {
  return { '=': order === 0, '!=': order !== 0, '<': order < 0, '>': order > 0 }[op];
}

export class KvModel {
  revision = 0;
  compacted = 0;
  readonly keys = new Map<string, KeyValue>();
  readonly events: ChangeEvent[] = [];
  /** Lease id → TTL. */
  readonly leases = new Map<number, number>();
  /** The raft index of the last apply (the harness gives each apply the next one). */
  private index = 0;
  private readonly requests = new Map<string, ApplyResult>();

  sorted(): KeyValue[] {
    return [...this.keys.values()].sort((a, b) => byteOrder(a.key, b.key));
  }

  range(o: RangeOptions): { kvs: KeyValue[]; more: boolean; count: number } {
    const all = this.sorted().filter((kv) => inRange(kv.key, o));
    if (o.countOnly === true) return { kvs: [], more: false, count: all.length };
    const page = o.limit === undefined ? all : all.slice(0, o.limit);
    const kvs = o.keysOnly === true ? page.map((kv) => ({ ...kv, value: '' })) : page;
    return { kvs, more: page.length < all.length, count: all.length };
  }

  /** Invalid commands are refused before the request id is looked up or remembered. */
  apply(cmd: Command): ApplyResult {
    this.index++;
    if (cmd.type === 'txn' && (writesTwice(cmd.success) || writesTwice(cmd.failure))) {
      return { error: { code: 'INVALID_ARGUMENT', message: '' } };
    }
    const id = cmd.type === 'noop' ? undefined : cmd.requestId;
    if (id !== undefined) {
      const first = this.requests.get(id);
      if (first !== undefined) return first;
    }
    const result = this.execute(cmd);
    if (id !== undefined) this.requests.set(id, result);
    return result;
  }

  private execute(cmd: Command): ApplyResult {
    switch (cmd.type) {
      case 'noop':
        return { type: 'noop', revision: this.revision };
      case 'compact':
        if (cmd.revision > this.revision) return { error: { code: 'FUTURE_REVISION', message: '' } };
        if (cmd.revision <= this.compacted) return { error: { code: 'COMPACTED', message: '' } };
        this.compacted = cmd.revision;
        this.events.splice(0, this.events.filter((e) => e.revision <= cmd.revision).length);
        return { type: 'compact', revision: this.revision, compactedRevision: this.compacted };
      case 'leaseGrant': {
        if (cmd.id !== undefined && this.leases.has(cmd.id))
          return { error: { code: 'LEASE_EXISTS', message: '' } };
        const id = cmd.id ?? Math.max(this.index, Math.max(0, ...this.leases.keys()) + 1);
        this.leases.set(id, cmd.ttl);
        return { type: 'leaseGrant', revision: this.revision, id, ttl: cmd.ttl };
      }
      case 'leaseRevoke': {
        if (!this.leases.has(cmd.id)) return { error: { code: 'LEASE_NOT_FOUND', message: '' } };
        const w = this.writer();
        let deleted = 0;
        for (const kv of this.sorted()) {
          if (kv.lease !== cmd.id) continue;
          this.deleteKey(kv, w);
          deleted++;
        }
        this.leases.delete(cmd.id);
        return { type: 'leaseRevoke', revision: w.done(), id: cmd.id, deleted };
      }
      case 'txn': {
        const succeeded = cmd.compare.every((c) => this.compareHolds(c));
        if (!this.leasesExist(succeeded ? cmd.success : cmd.failure)) {
          return { error: { code: 'LEASE_NOT_FOUND', message: '' } };
        }
        const w = this.writer();
        const responses = (succeeded ? cmd.success : cmd.failure).map((op) => this.op(op, w));
        return { type: 'txn', revision: w.done(), succeeded, responses };
      }
      default: {
        if (!this.leasesExist([cmd])) return { error: { code: 'LEASE_NOT_FOUND', message: '' } };
        const w = this.writer();
        const response = this.op(cmd, w);
        return { ...response, revision: w.done() } as ApplyResult;
      }
    }
  }

  private deleteKey(prev: KeyValue, w: { rev: number; sub: () => number }): void {
    this.keys.delete(prev.key);
    const kv: KeyValue = {
      key: prev.key,
      value: '',
      createRevision: 0,
      modRevision: w.rev,
      version: 0,
      lease: null,
    };
    this.events.push({ revision: w.rev, sub: w.sub(), type: 'delete', kv, prevKv: prev });
  }

  private leasesExist(ops: readonly Op[]): boolean {
    return ops.every((op) => op.type !== 'put' || op.leaseId === undefined || this.leases.has(op.leaseId));
  }

  private compareHolds(c: Compare): boolean {
    const kv = this.keys.get(c.key);
    if (c.target === 'value') return kv !== undefined && holds(byteOrder(kv.value, c.value), c.op);
    return holds(Math.sign((kv?.[c.target] ?? 0) - c.value), c.op);
  }

  private writer(): { rev: number; sub: () => number; done: () => number } {
    const rev = this.revision + 1;
    let sub = 0;
    return {
      rev,
      sub: () => sub++,
      done: () => (this.revision = sub > 0 ? rev : this.revision),
    };
  }

  private op(op: Op, w: { rev: number; sub: () => number }): OpResponse {
    switch (op.type) {
      case 'get': {
        const kv = this.keys.get(op.key);
        return kv === undefined ? { type: 'get' } : { type: 'get', kv };
      }
      case 'range':
        return { type: 'range', ...this.range(op) };
      case 'put': {
        const prev = this.keys.get(op.key);
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: prev?.createRevision ?? w.rev,
          modRevision: w.rev,
          version: (prev?.version ?? 0) + 1,
          lease: op.leaseId ?? null,
        };
        this.keys.set(op.key, kv);
        const event: ChangeEvent = { revision: w.rev, sub: w.sub(), type: 'put', kv };
        this.events.push(prev === undefined ? event : { ...event, prevKv: prev });
        return op.prevKv === true && prev !== undefined ? { type: 'put', prevKv: prev } : { type: 'put' };
      }
      case 'delete':
      case 'deleteRange': {
        const victims =
          op.type === 'delete'
            ? [this.keys.get(op.key)].filter((kv) => kv !== undefined)
            : this.sorted().filter((kv) => kv.key.startsWith(op.prefix));
        for (const prev of victims) this.deleteKey(prev, w);
        return op.prevKv === true
          ? { type: 'delete', deleted: victims.length, prevKvs: victims }
          : { type: 'delete', deleted: victims.length };
      }
    }
  }
}

/** etcd's txn rule: a key put twice, or put and deleted, in one branch. */
function writesTwice(ops: readonly Op[]): boolean {
  const puts = ops.flatMap((op) => (op.type === 'put' ? [op.key] : []));
  if (new Set(puts).size < puts.length) return true;
  return ops.some(
    (op) =>
      (op.type === 'delete' && puts.includes(op.key)) ||
      (op.type === 'deleteRange' && puts.some((k) => k.startsWith(op.prefix))),
  );
}
