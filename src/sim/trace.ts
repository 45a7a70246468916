// The run's trace: a ring buffer of recent events, kept as cheap records and formatted only
// when someone reads them (a failure report, the replay command, the determinism test). With
// `full` every record is kept.

import type { Message } from '../raft/types.js';

export type TraceKind =
  | 'send'
  | 'recv'
  | 'drop'
  | 'crash'
  | 'restart'
  | 'stop'
  | 'start'
  | 'role'
  | 'commit'
  | 'apply'
  | 'snapshot'
  | 'persist'
  | 'client'
  | 'fault'
  | 'conf'
  | 'check';

interface TraceRecord {
  readonly time: number;
  readonly node: string;
  readonly kind: TraceKind;
  readonly msg: Message | undefined;
  /** Formatted when read: most records are never shown. */
  readonly text: string | (() => string);
}

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} t${m.term}`;
  switch (m.type) {
    case 'append': {
      const first = m.entries[0];
      const last = m.entries[m.entries.length - 1];
      const range =
        first === undefined || last === undefined ? 'no entries' : `entries ${first.index}..${last.index}`;
      const terms =
        m.entries.length > 0 ? ` (terms ${[...new Set(m.entries.map((e) => e.term))].join(',')})` : '';
      return `${head} prev ${m.index}/t${m.logTerm} ${range}${terms} commit ${m.commit}`;
    }
    case 'appendResponse':
      return m.reject
        ? `${head} REJECT prev ${m.index} hint ${m.hint}/t${m.hintTerm}`
        : `${head} ok match ${m.index}`;
    case 'heartbeat':
      return `${head} commit ${m.commit}${m.readSeq > 0 ? ` readSeq ${m.readSeq}` : ''}`;
    case 'heartbeatResponse':
      return m.readSeq > 0 ? `${head} readSeq ${m.readSeq}` : head;
    case 'vote':
    case 'preVote':
      return `${head} last ${m.lastIndex}/t${m.lastTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${m.reject ? 'REJECT' : 'granted'}`;
    case 'snapshot':
      return `${head} snap ${m.meta.index}/t${m.meta.term} bytes ${m.offset}+${m.data.length}/${m.totalBytes}`;
    case 'snapshotResponse':
      return `${head} snap ${m.snapshotIndex} received ${m.received}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx ${m.context}`;
    case 'readIndexResponse':
      return `${head} ctx ${m.context} index ${m.index}`;
  }
}

/** Plain heartbeats dominate the traffic; readers usually want them out of the way. */
function isRoutine(r: TraceRecord): boolean {
  const m = r.msg;
  return (
    m !== undefined &&
    (r.kind === 'send' || r.kind === 'recv') &&
    ((m.type === 'heartbeat' && m.readSeq === 0) || (m.type === 'heartbeatResponse' && m.readSeq === 0))
  );
}

function format(r: TraceRecord): string {
  const time = r.time.toFixed(3).padStart(10);
  const text = typeof r.text === 'string' ? r.text : r.text();
  const detail =
    r.msg === undefined ? text : text === '' ? describeMessage(r.msg) : `${describeMessage(r.msg)} (${text})`;
  return `${time}ms ${r.node.padEnd(4)} ${r.kind.padEnd(8)} ${detail}`;
}

export interface TraceFormat {
  /** How many lines, counted from the end. Default: all kept. */
  readonly last?: number;
  /** Show plain heartbeats and their responses. Default: false. */
  readonly heartbeats?: boolean;
}

export class Trace {
  private readonly ring: (TraceRecord | undefined)[];
  private readonly all: TraceRecord[] | undefined;
  private head = 0;
  private count = 0;

  /** `capacity`: records kept in the ring. `full`: also keep every record for fullText(). */
  constructor(
    private readonly clock: { readonly now: number },
    capacity: number,
    full: boolean,
  ) {
    this.ring = new Array<TraceRecord | undefined>(Math.max(1, capacity)).fill(undefined);
    this.all = full ? [] : undefined;
  }

  /** `text` may be a function, called only if the record is ever shown (it must capture values, not state). */
  add(node: string, kind: TraceKind, text: string | (() => string), msg?: Message): void {
    const r: TraceRecord = { time: this.clock.now, node, kind, msg, text };
    this.ring[this.head] = r;
    this.head = (this.head + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
    this.all?.push(r);
  }

  /** The most recent records, oldest first (formatting only those returned). */
  recent(opts: TraceFormat = {}): string[] {
    const out: string[] = [];
    const n = this.ring.length;
    const want = opts.last ?? Infinity;
    for (let k = this.count - 1; k >= 0 && out.length < want; k--) {
      const r = this.ring[(this.head - this.count + k + n) % n]!;
      if (opts.heartbeats !== true && isRoutine(r)) continue;
      out.push(format(r));
    }
    return out.reverse();
  }

  /** With `full`: the records up to simulated time `until`, oldest first. */
  before(until: number, opts: TraceFormat = {}): string[] {
    const all = this.all ?? [];
    const out: string[] = [];
    const want = opts.last ?? Infinity;
    for (let k = all.length - 1; k >= 0 && out.length < want; k--) {
      const r = all[k]!;
      if (r.time > until || (opts.heartbeats !== true && isRoutine(r))) continue;
      out.push(format(r));
    }
    return out.reverse();
  }

  /** Every record of the run, one line each (only with `full`). */
  fullText(): string {
    return (this.all ?? []).map(format).join('\n');
  }
}
