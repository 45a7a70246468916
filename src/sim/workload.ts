// Client processes. Each client runs one operation at a time against a few keys: reads through
// ReadIndex, writes and compare-and-set through proposals. It talks to its last known leader
// (or a random node), follows NOT_LEADER hints, and gives up on an operation at its deadline:
// a write/cas that was proposed is then recorded with an unknown outcome (it may still commit),
// anything else is dropped as failed. A proposal's outcome is known when the node it was
// proposed on applies the entry (see SimNode.settleProposal).

import type { NodeId, RaftError } from '../raft/index.js';
import type { HistoryOp, OpKind } from './history.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { SimNode } from './sim-node.js';
import { encodeCommand } from './state-machine.js';
import type { CommandOutput } from './state-machine.js';
import type { Trace } from './trace.js';

export interface WorkloadParams {
  readonly clients: number;
  readonly keys: number;
  /** Mean pause between a client's operations (ms). */
  readonly thinkMs: number;
  /** A client gives up on an operation after this long (ms). */
  readonly opTimeoutMs: number;
  /** A read that got no read index within this long is asked again (ms). */
  readonly readRetryMs: number;
  /** Operation mix, as weights. */
  readonly mix: Readonly<Record<OpKind, number>>;
}

export interface ClusterView {
  node(id: NodeId): SimNode | undefined;
  /** Nodes a client may address (not permanently stopped). */
  routable(): readonly NodeId[];
}

interface PendingOp {
  readonly reqId: string;
  readonly kind: OpKind;
  readonly key: string;
  readonly value?: string;
  readonly from?: string | null;
  readonly to?: string;
  readonly call: number;
  readonly deadline: number;
  /** write/cas: the node that accepted the proposal. */
  proposedOn: NodeId | undefined;
  /** read: attempts so far (each asks with a fresh context). */
  attempts: number;
  /** Next pause after a refusal without a leader hint (ms); doubles up to a cap. */
  backoff: number;
}

interface Client {
  readonly id: number;
  /** For the trace: c0, c1, ... */
  readonly name: string;
  target: NodeId;
  op: PendingOp | undefined;
  seq: number;
  /** Last value this client saw per key, to aim its cas at. */
  readonly seen: Map<string, string | null>;
}

export interface WorkloadStats {
  ok: number;
  info: number;
  failed: number;
  /** Requests a node refused (NOT_LEADER and the like). */
  refused: number;
}

export class Workload {
  readonly history: HistoryOp[] = [];
  readonly stats: WorkloadStats = { ok: 0, info: 0, failed: 0, refused: 0 };
  private readonly clients: Client[] = [];
  private readonly byReqId = new Map<string, Client>();
  private issuing = false;
  /** When the faults stopped; operations called after it count toward liveness. */
  private healTime = Infinity;
  private readonly okAfterHeal = new Set<number>();
  private writesAfterHeal = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rand: SimRandom,
    private readonly trace: Trace,
    private readonly cluster: ClusterView,
    private readonly params: WorkloadParams,
  ) {}

  start(): void {
    this.issuing = true;
    for (let i = 0; i < this.params.clients; i++) {
      const client: Client = {
        id: i,
        name: `c${i}`,
        target: this.randomTarget(),
        op: undefined,
        seq: 0,
        seen: new Map(),
      };
      this.clients.push(client);
      this.scheduleNext(client);
    }
  }

  /** No new operations; outstanding ones run to completion or their deadline. */
  stopIssuing(): void {
    this.issuing = false;
  }

  markHeal(time: number): void {
    this.healTime = time;
  }

  /** Every client completed an operation called after the heal, and some write did. */
  livenessMet(): boolean {
    return this.okAfterHeal.size === this.clients.length && this.writesAfterHeal > 0;
  }

  livenessReport(): string {
    const missing = this.clients.filter((c) => !this.okAfterHeal.has(c.id)).map((c) => c.id);
    return (
      `${this.writesAfterHeal} writes completed after the heal; clients with no completed operation since: ` +
      (missing.length === 0 ? 'none' : missing.join(', '))
    );
  }

  outstanding(): number {
    let n = 0;
    for (const c of this.clients) if (c.op !== undefined) n++;
    return n;
  }

  // ------------------------------------------------------------------ results from nodes

  onProposalResult(_node: SimNode, reqId: string, output: CommandOutput | undefined): void {
    const client = this.byReqId.get(reqId);
    const op = client?.op;
    if (client === undefined || op?.reqId !== reqId) return; // already timed out
    if (output === undefined) {
      this.finish(client, 'fail', undefined, 'another entry was committed at its index');
      return;
    }
    if (op.kind === 'write') client.seen.set(op.key, op.value ?? null);
    else if (op.kind === 'cas' && output) client.seen.set(op.key, op.to ?? null);
    this.finish(client, 'ok', output, '');
  }

  onReadReady(node: SimNode, ctx: string): void {
    const reqId = ctx.slice(0, ctx.indexOf('#'));
    const client = this.byReqId.get(reqId);
    const op = client?.op;
    if (client === undefined || op?.reqId !== reqId) return;
    const value = node.sm.get(op.key);
    client.seen.set(op.key, value);
    this.finish(client, 'ok', value, `served by ${node.id} at applied ${node.sm.applied}`);
  }

  // ------------------------------------------------------------------ client loop

  private scheduleNext(client: Client): void {
    if (!this.issuing) return;
    this.sched.after(this.rand.exp(this.params.thinkMs), () => {
      this.startOp(client);
    });
  }

  private startOp(client: Client): void {
    if (!this.issuing || client.op !== undefined) return;
    const p = this.params;
    const rand = this.rand;
    const kind = rand.weighted(p.mix);
    const key = `k${rand.int(p.keys)}`;
    client.seq++;
    const reqId = `c${client.id}.${client.seq}`;
    const now = this.sched.now;
    const base = {
      reqId,
      kind,
      key,
      call: now,
      deadline: now + p.opTimeoutMs,
      proposedOn: undefined,
      attempts: 0,
      backoff: 5,
    };
    let op: PendingOp;
    if (kind === 'write') {
      op = { ...base, value: `${client.id}.${client.seq}` };
    } else if (kind === 'cas') {
      const seen = client.seen.get(key);
      const from =
        seen !== undefined && rand.chance(0.8)
          ? seen
          : rand.chance(0.5)
            ? null
            : `${rand.int(this.params.clients)}.${rand.intIn(1, client.seq)}`;
      op = { ...base, from, to: `${client.id}.${client.seq}` };
    } else {
      op = base;
    }
    client.op = op;
    this.byReqId.set(reqId, client);
    const via = client.target;
    this.trace.add(client.name, 'client', () => `invoke ${describePending(op)} via ${via}`);
    this.sched.at(op.deadline, () => {
      if (client.op === op) this.timeout(client);
    });
    this.submit(client, op);
  }

  private submit(client: Client, op: PendingOp): void {
    if (client.op !== op || this.sched.now >= op.deadline) return;
    const node = this.cluster.node(client.target);
    if (node?.up !== true) {
      client.target = this.randomTarget();
      this.retry(client, op, this.rand.range(2, 8));
      return;
    }
    if (op.kind === 'read') {
      op.attempts++;
      const ctx = `${op.reqId}#${op.attempts}`;
      const err = node.readIndex(ctx);
      if (err !== undefined) {
        this.refused(client, op, node, err);
        return;
      }
      // The answer may never come (leader change drops it): ask again, elsewhere, after a while.
      this.sched.after(this.params.readRetryMs, () => {
        if (client.op === op && op.attempts === Number(ctx.slice(ctx.indexOf('#') + 1))) {
          client.target = this.randomTarget();
          this.submit(client, op);
        }
      });
      return;
    }
    const res = node.propose(
      op.reqId,
      encodeCommand(
        op.reqId,
        op.kind === 'write'
          ? { kind: 'write', key: op.key, value: op.value ?? '' }
          : { kind: 'cas', key: op.key, from: op.from ?? null, to: op.to ?? '' },
      ),
    );
    if (res.ok) {
      op.proposedOn = node.id;
      const on = node.id;
      this.trace.add(
        client.name,
        'client',
        () => `${op.reqId} proposed on ${on} as ${res.index}/t${res.term}`,
      );
      return;
    }
    this.refused(client, op, node, res.error);
  }

  private refused(client: Client, op: PendingOp, node: SimNode, err: RaftError): void {
    this.stats.refused++;
    if (err.code === 'NOT_LEADER' || err.code === 'NO_LEADER') {
      // Follow a hint at once; without one, the cluster is probably electing: wait a bit.
      const hinted = err.leader !== '' && err.leader !== node.id;
      client.target = hinted ? err.leader : this.randomTarget();
      if (hinted) {
        this.retry(client, op, this.rand.range(0.5, 2));
        return;
      }
    }
    this.retry(client, op, op.backoff * this.rand.range(1, 2));
    op.backoff = Math.min(op.backoff * 2, 80);
  }

  private retry(client: Client, op: PendingOp, delay: number): void {
    this.sched.after(delay, () => {
      this.submit(client, op);
    });
  }

  private timeout(client: Client): void {
    const op = client.op!;
    client.target = this.randomTarget();
    if (op.kind !== 'read' && op.proposedOn !== undefined) {
      this.finish(client, 'info', undefined, 'timed out after proposing');
    } else {
      this.finish(client, 'fail', undefined, 'timed out');
    }
  }

  private finish(
    client: Client,
    outcome: 'ok' | 'info' | 'fail',
    output: string | null | boolean | undefined,
    note: string,
  ): void {
    const op = client.op!;
    client.op = undefined;
    this.byReqId.delete(op.reqId);
    const now = this.sched.now;
    this.stats[outcome === 'fail' ? 'failed' : outcome]++;
    if (outcome !== 'fail') {
      const rec: HistoryOp = {
        client: client.id,
        kind: op.kind,
        key: op.key,
        ...(op.value === undefined ? {} : { value: op.value }),
        ...(op.from === undefined ? {} : { from: op.from }),
        ...(op.to === undefined ? {} : { to: op.to }),
        output,
        call: op.call,
        ret: outcome === 'ok' ? now : Infinity,
      };
      this.history.push(rec);
    }
    if (outcome === 'ok' && op.call >= this.healTime) {
      this.okAfterHeal.add(client.id);
      if (op.kind !== 'read') this.writesAfterHeal++;
    }
    this.trace.add(client.name, 'client', () => {
      const shown = outcome === 'ok' ? ` -> ${JSON.stringify(output)}` : '';
      return `${outcome} ${describePending(op)}${shown}${note === '' ? '' : ` (${note})`}`;
    });
    this.scheduleNext(client);
  }

  private randomTarget(): NodeId {
    return this.rand.pick(this.cluster.routable());
  }
}

function describePending(op: PendingOp): string {
  switch (op.kind) {
    case 'read':
      return `${op.reqId} read ${op.key}`;
    case 'write':
      return `${op.reqId} write ${op.key}=${op.value ?? ''}`;
    case 'cas':
      return `${op.reqId} cas ${op.key} ${op.from ?? 'nil'}->${op.to ?? ''}`;
  }
}
