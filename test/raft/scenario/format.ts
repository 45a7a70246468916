import { decodeConfChange } from '../../../src/raft/index.js';
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  MessageType,
  NodeId,
  ReadState,
  Ready,
  SnapshotMeta,
  SoftState,
} from '../../../src/raft/index.js';

/**
 * Compact, stable text for the Raft core's data, modelled on etcd-io/raft's interaction output.
 * Node "n3" is shown as "3"; entries as term/index; messages as `from->to MsgType Field:value ...`.
 */

const decoder = new TextDecoder();

/** `n3` → `3`; the empty id (NONE) → `none`. */
export function showId(id: NodeId): string {
  if (id === '') return 'none';
  return /^n\d+$/.test(id) ? id.slice(1) : id;
}

export function showIds(ids: readonly NodeId[]): string {
  return `(${sortIds(ids).map(showId).join(' ')})`;
}

export function sortIds(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort(compareIds);
}

function idNumber(id: NodeId): number {
  const n = Number(id.slice(1));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

export function showText(data: Uint8Array): string {
  return JSON.stringify(decoder.decode(data));
}

export function showEntry(e: Entry): string {
  const head = `${e.term}/${e.index}`;
  if (e.type === 'normal') return `${head} EntryNormal ${showText(e.data)}`;
  const change = decodeConfChange(e.data);
  if (change === undefined) return `${head} EntryConfChange <undecodable>`;
  return `${head} EntryConfChange ${change.type} ${showId(change.nodeId)}`;
}

export function showConf(conf: ConfState): string {
  return `Voters:${showIds(conf.voters)} Learners:${showIds(conf.learners)}`;
}

export function showSnapshotMeta(meta: SnapshotMeta): string {
  return `Index:${meta.index} Term:${meta.term} ${showConf(meta.conf)}`;
}

export function showHardState(hs: HardState): string {
  return `HardState Term:${hs.term} Vote:${showId(hs.vote)} Commit:${hs.commit}`;
}

export function showSoftState(ss: SoftState): string {
  return `SoftState Lead:${showId(ss.leader)} Role:${ss.role}`;
}

export function showReadState(rs: ReadState): string {
  return `Index:${rs.index} Ctx:${JSON.stringify(rs.context)}`;
}

/** Our message type names mapped to etcd's, for display and for `type=` filters. */
export const ETCD_TYPE_NAMES: Readonly<Record<MessageType, string>> = {
  append: 'MsgApp',
  appendResponse: 'MsgAppResp',
  heartbeat: 'MsgHeartbeat',
  heartbeatResponse: 'MsgHeartbeatResp',
  vote: 'MsgVote',
  voteResponse: 'MsgVoteResp',
  preVote: 'MsgPreVote',
  preVoteResponse: 'MsgPreVoteResp',
  snapshot: 'MsgSnap',
  snapshotResponse: 'MsgSnapResp',
  timeoutNow: 'MsgTimeoutNow',
  readIndex: 'MsgReadIndex',
  readIndexResponse: 'MsgReadIndexResp',
};

/** Accepts either spelling (`MsgApp` or `append`); undefined if neither. */
export function parseMessageType(name: string): MessageType | undefined {
  for (const [ours, etcd] of Object.entries(ETCD_TYPE_NAMES) as [MessageType, string][]) {
    if (name === ours || name === etcd) return ours;
  }
  return undefined;
}

export function showMessage(m: Message): string {
  const head = `${showId(m.from)}->${showId(m.to)} ${ETCD_TYPE_NAMES[m.type]} Term:${m.term}`;
  switch (m.type) {
    case 'append': {
      const entries = m.entries.length > 0 ? ` Entries:[${m.entries.map(showEntry).join(', ')}]` : '';
      return `${head} Log:${m.logTerm}/${m.index} Commit:${m.commit}${entries}`;
    }
    case 'appendResponse':
      return m.reject
        ? `${head} Index:${m.index} Rejected Hint:${m.hint} HintTerm:${m.hintTerm}`
        : `${head} Index:${m.index}`;
    case 'heartbeat':
      return `${head} Commit:${m.commit}${m.readSeq > 0 ? ` ReadSeq:${m.readSeq}` : ''}`;
    case 'heartbeatResponse':
      return `${head}${m.readSeq > 0 ? ` ReadSeq:${m.readSeq}` : ''}`;
    case 'vote':
    case 'preVote':
      return `${head} Log:${m.lastTerm}/${m.lastIndex}${m.transfer ? ' Transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head}${m.reject ? ' Rejected' : ''}`;
    case 'snapshot':
      return (
        `${head} Snapshot:[${showSnapshotMeta(m.meta)}]` +
        ` Bytes:[${m.offset},${m.offset + m.data.length})/${m.totalBytes}`
      );
    case 'snapshotResponse':
      return `${head} Snapshot:${m.snapshotIndex} Received:${m.received}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} Ctx:${JSON.stringify(m.context)}`;
    case 'readIndexResponse':
      return `${head} Index:${m.index} Ctx:${JSON.stringify(m.context)}`;
  }
}

/** Collapses runs of identical lines into one, suffixed with the count: `line (x10)`. */
export function collapseRuns(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i + 1;
    while (j < lines.length && lines[j] === lines[i]) j++;
    out.push(j - i > 1 ? `${lines[i]!} (x${j - i})` : lines[i]!);
    i = j;
  }
  return out;
}

/**
 * Messages of one batch, grouped by recipient (a stable sort: the order of the messages to one
 * recipient is kept; messages to different recipients travel independently anyway), with runs
 * of identical messages (heartbeats of successive ticks) collapsed.
 */
export function showMessageBatch(msgs: readonly Message[]): string[] {
  const sorted = msgs
    .map((m, i) => ({ m, i }))
    .sort((a, b) => compareIds(a.m.to, b.m.to) || a.i - b.i)
    .map(({ m }) => showMessage(m));
  return collapseRuns(sorted);
}

function compareIds(a: NodeId, b: NodeId): number {
  return idNumber(a) - idNumber(b) || a.localeCompare(b);
}

/** The lines describing a Ready, in the order of its handling contract. */
export function showReady(rd: Ready): string[] {
  const out: string[] = [];
  if (rd.softState !== undefined) out.push(showSoftState(rd.softState));
  if (rd.hardState !== undefined) out.push(showHardState(rd.hardState));
  if (rd.snapshot !== undefined) {
    out.push(`Snapshot ${showSnapshotMeta(rd.snapshot.meta)} Bytes:${rd.snapshot.data.length}`);
  }
  const section = (title: string, items: readonly string[]): void => {
    if (items.length === 0) return;
    out.push(`${title}:`, ...items);
  };
  section('Entries', rd.entries.map(showEntry));
  section('CommittedEntries', rd.committedEntries.map(showEntry));
  section('Messages', showMessageBatch(rd.messages));
  section('MessagesAfterPersist', showMessageBatch(rd.messagesAfterPersist));
  section('ReadStates', rd.readStates.map(showReadState));
  return out;
}
