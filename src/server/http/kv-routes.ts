import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Command, KvStore } from '../../kv/index.js';
import { validateKey, validateRangeOptions } from '../../kv/index.js';
import { ServerError } from '../errors.js';
import { checkKv, withRequestId, write } from './propose.js';
import type { ProposeDeps } from './propose.js';
import { parse } from './validation.js';

/** What the KV routes need from the node: consensus operations, and where the leader is. */
export interface KvRouteDeps extends ProposeDeps {
  readonly kv: KvStore;
  /** Resolves once a linearizable read may be served from this node's state. */
  readBarrier(): Promise<void>;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

const consistency = z.enum(['linearizable', 'serializable']).default('linearizable');
const boolString = z.enum(['true', 'false']).transform((v) => v === 'true');

const getQuery = z.strictObject({ consistency });
const putBody = z.strictObject({
  value: z.string(),
  prevKv: z.boolean().optional(),
  leaseId: z.number().int().positive().optional(),
});
const deleteQuery = z.strictObject({ prevKv: boolString.optional() });
const rangeQuery = z.strictObject({
  consistency,
  prefix: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  after: z.string().optional(),
  limit: z.coerce.number().int().positive().max(10_000).optional(),
  keysOnly: boolString.optional(),
  countOnly: boolString.optional(),
});
const compareSchema = z.discriminatedUnion('target', [
  z.strictObject({
    key: z.string(),
    target: z.literal('value'),
    op: z.enum(['=', '!=', '<', '>']),
    value: z.string(),
  }),
  z.strictObject({
    key: z.string(),
    target: z.enum(['version', 'createRevision', 'modRevision']),
    op: z.enum(['=', '!=', '<', '>']),
    value: z.number().int().nonnegative(),
  }),
]);
const opSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('put'),
    key: z.string(),
    value: z.string(),
    prevKv: z.boolean().optional(),
    leaseId: z.number().int().positive().optional(),
  }),
  z.strictObject({ type: z.literal('delete'), key: z.string(), prevKv: z.boolean().optional() }),
  z.strictObject({ type: z.literal('deleteRange'), prefix: z.string(), prevKv: z.boolean().optional() }),
  z.strictObject({ type: z.literal('get'), key: z.string() }),
  z.strictObject({
    type: z.literal('range'),
    prefix: z.string().optional(),
    start: z.string().optional(),
    end: z.string().optional(),
    after: z.string().optional(),
    limit: z.number().int().positive().max(10_000).optional(),
    keysOnly: z.boolean().optional(),
    countOnly: z.boolean().optional(),
  }),
]);
const txnBody = z.strictObject({
  compare: z.array(compareSchema).max(128).default([]),
  success: z.array(opSchema).max(128).default([]),
  failure: z.array(opSchema).max(128).default([]),
});
const compactBody = z.strictObject({ revision: z.number().int().positive() });

/**
 * The key-value API under /v1. Writes go through Raft (forwarded to the leader by followers);
 * reads are linearizable (ReadIndex) unless `consistency=serializable`. Every answer carries the
 * store revision it reflects in `x-conclave-revision`.
 */
export function registerKvRoutes(app: FastifyInstance, deps: KvRouteDeps): void {
  app.get<{ Params: { '*': string } }>('/v1/kv/*', async (request, reply) => {
    const key = keyFrom(request.params['*'], deps);
    const query = parse(getQuery, request.query, 'query');
    if (query.consistency === 'linearizable') await deps.readBarrier();
    const { kv, revision } = deps.kv.get(key);
    void reply.header('x-conclave-revision', String(revision));
    if (kv === undefined) throw new ServerError('KEY_NOT_FOUND', `no key "${key}"`, { key, revision });
    return { kv, revision };
  });

  app.put<{ Params: { '*': string } }>('/v1/kv/*', async (request, reply) => {
    const key = keyFrom(request.params['*'], deps);
    const body = parse(putBody, request.body, 'body');
    if (Buffer.byteLength(body.value) > deps.maxValueBytes) {
      throw new ServerError('VALUE_TOO_LARGE', `the value exceeds max-value-bytes (${deps.maxValueBytes})`);
    }
    const command: Command = { type: 'put', key, value: body.value, ...withRequestId(request) };
    if (body.prevKv !== undefined) Object.assign(command, { prevKv: body.prevKv });
    if (body.leaseId !== undefined) Object.assign(command, { leaseId: body.leaseId });
    return write(request, reply, deps, command);
  });

  app.delete<{ Params: { '*': string } }>('/v1/kv/*', async (request, reply) => {
    const key = keyFrom(request.params['*'], deps);
    const query = parse(deleteQuery, request.query, 'query');
    const command: Command = { type: 'delete', key, ...withRequestId(request) };
    if (query.prevKv !== undefined) Object.assign(command, { prevKv: query.prevKv });
    return write(request, reply, deps, command);
  });

  app.get('/v1/kv', async (request, reply) => {
    const { consistency: level, ...options } = parse(rangeQuery, request.query, 'query');
    const rangeOptions = stripUndefined(options);
    checkKv(() => {
      validateRangeOptions(rangeOptions);
    });
    if (level === 'linearizable') await deps.readBarrier();
    const result = deps.kv.range(rangeOptions);
    void reply.header('x-conclave-revision', String(result.revision));
    return result;
  });

  app.post('/v1/txn', async (request, reply) => {
    const body = parse(txnBody, request.body, 'body');
    for (const op of [...body.success, ...body.failure]) checkOpLimits(op, deps);
    for (const c of body.compare) checkKeyLimit(c.key, deps);
    const command = {
      type: 'txn',
      ...(stripUndefinedDeep(body) as object),
      ...withRequestId(request),
    } as Command;
    return write(request, reply, deps, command);
  });

  app.post('/v1/compact', async (request, reply) => {
    const body = parse(compactBody, request.body, 'body');
    return write(request, reply, deps, {
      type: 'compact',
      revision: body.revision,
      ...withRequestId(request),
    });
  });
}

/** The node's configured limits apply to every key and value a txn carries, as to single writes. */
function checkOpLimits(op: z.output<typeof opSchema>, deps: KvRouteDeps): void {
  if ('key' in op) checkKeyLimit(op.key, deps);
  if (op.type === 'put' && Buffer.byteLength(op.value) > deps.maxValueBytes) {
    throw new ServerError('VALUE_TOO_LARGE', `a value exceeds max-value-bytes (${deps.maxValueBytes})`);
  }
}

function checkKeyLimit(key: string, deps: KvRouteDeps): void {
  if (Buffer.byteLength(key) > deps.maxKeyBytes) {
    throw new ServerError('KEY_TOO_LARGE', `the key exceeds max-key-bytes (${deps.maxKeyBytes})`);
  }
}

function keyFrom(raw: string, deps: KvRouteDeps): string {
  if (raw.length === 0) throw new ServerError('INVALID_ARGUMENT', 'the key must not be empty');
  checkKeyLimit(raw, deps);
  checkKv(() => {
    validateKey(raw);
  });
  return raw;
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function stripUndefinedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripUndefinedDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, stripUndefinedDeep(v)]),
    );
  }
  return value;
}
