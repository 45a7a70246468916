import { applyConfChange } from '../../../src/raft/confchange.js';
import {
  decodeConfChange,
  MemoryStorage,
  MUTANTS,
  RAFT_DEFAULTS,
  RaftNode,
} from '../../../src/raft/index.js';
import type {
  ConfChangeType,
  ConfState,
  Entry,
  Message,
  MessageType,
  Mutant,
  NodeId,
  RaftConfigInput,
  RaftError,
  RaftRole,
  ReadState,
  Ready,
} from '../../../src/raft/index.js';
import {
  collapseRuns,
  ETCD_TYPE_NAMES,
  parseMessageType,
  showConf,
  showEntry,
  showId,
  showIds,
  showMessage,
  showReady,
  sortIds,
} from './format.js';
import type { Command, Interpreter } from './runner.js';

/**
 * The interaction environment of the scenario scripts (test/raft/scenario/testdata/*.txt): a
 * cluster of RaftNodes on MemoryStorage, driven one step at a time by commands named after
 * etcd-io/raft's interaction tests. Nodes are numbered 1, 2, ...; internally node k is "nk".
 *
 * Nothing happens unless a command says so: ticks are explicit, messages wait in one queue until
 * delivered, Readys wait until processed. Every command's output is printed compactly (see
 * format.ts). The environment checks Raft's safety properties as it goes (election safety after
 * every step; state machine safety at every apply; log matching and leader completeness after
 * every command) and fails the script on a violation, unless a node runs a planted bug
 * (`mutant=`), in which case the violations are recorded for `check-safety`.
 *
 * Commands (ids are node numbers; `[...]` is optional):
 *
 *   add-nodes N [voters=(1,2,3)] [learners=(4)] [prevote=true] [checkquorum=true] [election=10]
 *       [heartbeat=1] [max-msg-size=B] [max-inflight=N] [max-uncommitted=B] [snap-chunk=B]
 *       [jitter=0] [mutant=NAME] [bootstrap=log|snapshot]
 *     Adds N nodes with the next free numbers. With voters=, each starts bootstrapped with that
 *     membership: as committed conf-change entries at term 1 (bootstrap=log, the default), or
 *     only as the storage's snapshot metadata at index 0 with an empty log (bootstrap=snapshot,
 *     for logs crafted with init-log). Without voters=, a node starts empty (a node joining an
 *     existing cluster). jitter=J makes every randomized election timeout election+J ticks
 *     (default 0: exactly `election` ticks), so elections are deterministic.
 *   init-log ID terms=(1,1,2,...) [term=T] [vote=V] [commit=C]
 *     Replaces the node's disk with a crafted log (empty entries of the given terms from index 1;
 *     its current membership kept as snapshot metadata at index 0) and restarts it from there.
 *     This is how the Figure 7 logs are built (use add-nodes bootstrap=snapshot first, so that
 *     the nodes not yet crafted hold no conflicting bootstrap entries).
 *   reset                          Discards every node and message: a fresh environment.
 *   save NAME / restore NAME       Remembers the commands run since the last reset / resets and
 *                                  replays them silently, rebuilding that state exactly (the
 *                                  environment is deterministic): a way to branch a scenario.
 *   tick ID [N]                    N ticks (default 1).
 *   tick-election ID               `election` ticks.
 *   tick-heartbeat ID              `heartbeat` ticks.
 *   campaign ID                    Ticks ID until it starts an election (pre-vote or vote; from a
 *                                  candidate: a new election in the next term).
 *   propose ID DATA [expect=ok|CODE]
 *   propose-conf-change ID addVoter|addLearner|removeNode NODE [expect=ok|CODE]
 *   read-index ID CTX [expect=ok|CODE]
 *   transfer-leadership from=ID to=ID [expect=ok|CODE]
 *   process-ready ID...            Handles the nodes' Readys per the contract, printing them.
 *   deliver-msgs [drop=(IDS)] [type=MsgApp] [ID...]
 *     Delivers queued messages addressed to the IDs (default: all nodes), optionally only those
 *     of one type; messages to the drop= nodes are discarded instead. Messages crossing a
 *     partition, or addressed to a crashed node, are lost at delivery (printed DROPPED).
 *   stabilize [ID...]              Processes Readys and delivers messages among the IDs (default
 *                                  all) until nothing is left to do.
 *   partition ID...                Cuts the listed nodes off from all the others (cumulative).
 *   isolate ID                     Same as `partition ID`.
 *   heal                           Removes every cut.
 *   crash ID                       Stops the node: its queued messages (in and out) are lost, and
 *                                  so is everything not yet persisted (including the state
 *                                  machine, which is volatile).
 *   restart ID [mutant=NAME]       Starts the node again from its MemoryStorage (optionally
 *                                  running a planted bug from config.ts: a demonstration only).
 *   compact ID INDEX               Snapshots the node's state machine at INDEX (<= applied) into its
 *                                  storage and drops the log up to INDEX.
 *   status ID | raft-log ID | raft-state
 *
 * Assertions (they fail the script when false, whatever the golden output says):
 *   check ID [role=] [term=] [vote=] [leader=] [commit=] [applied=] [last-index=] [first-index=]
 *       [voters=()] [learners=()] [transferee=] [crashed=true|false]
 *   check-log ID terms=(...) [first=N]     The persisted log's terms, from first (default: firstIndex).
 *   check-logs-equal ID...                 Same last index, same entries where both hold them.
 *   check-applied ID... [data=(...)]       Identical state machines (and equal to data).
 *   check-read ID CTX index=N|none         The read state the node received for CTX.
 *   check-progress LEADER PEER [state=] [match=] [next=]
 *   check-queued [from=] [to=] [type=] [count=N]   Queued messages matching (default: at least one).
 *   check-safety [expect=ok|violated]      The safety violations recorded so far.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

type NodeOptions = Omit<RaftConfigInput, 'id' | 'rng' | 'applied'>;

interface StateMachine {
  /** Index and values of the snapshot the state machine was restored from. */
  baseIndex: number;
  baseValues: string[];
  /** Entries applied after the base, in order. */
  applied: Entry[];
}

interface EnvNode {
  readonly num: number;
  readonly id: NodeId;
  storage: MemoryStorage;
  raft: RaftNode | undefined;
  options: NodeOptions;
  readonly jitter: number;
  sm: StateMachine;
  /** Every read state handed to the application, by context. */
  readonly reads: Map<string, ReadState[]>;
}

interface Observed {
  readonly role: RaftRole;
  readonly term: number;
}

const nid = (num: number): NodeId => `n${num}`;

class Args {
  private readonly used = new Set<number>();

  constructor(private readonly cmd: Command) {}

  positionals(): string[] {
    const out: string[] = [];
    this.cmd.args.forEach((a, i) => {
      if (!a.keyed) {
        this.used.add(i);
        out.push(a.key);
      }
    });
    return out;
  }

  private find(key: string): readonly string[] | undefined {
    const i = this.cmd.args.findIndex((a) => a.keyed && a.key === key);
    if (i < 0) return undefined;
    this.used.add(i);
    return this.cmd.args[i]!.values;
  }

  list(key: string): readonly string[] | undefined {
    return this.find(key);
  }

  str(key: string): string | undefined {
    const values = this.find(key);
    if (values === undefined) return undefined;
    if (values.length !== 1) throw new Error(`${key}= takes one value`);
    return values[0];
  }

  int(key: string): number | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    return toInt(s, key);
  }

  bool(key: string): boolean | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    if (s !== 'true' && s !== 'false') throw new Error(`${key}= must be true or false, got ${s}`);
    return s === 'true';
  }

  /** Throws if an argument was not consumed (a typo must not be silently ignored). */
  done(): void {
    this.cmd.args.forEach((a, i) => {
      if (!this.used.has(i)) throw new Error(`unexpected argument ${a.keyed ? `${a.key}=` : a.key}`);
    });
  }
}

function toInt(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`${what}: not an integer: ${s}`);
  return n;
}

export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

export class InteractionEnv implements Interpreter {
  private nodes: EnvNode[] = [];
  private queue: Message[] = [];
  private cuts = new Set<string>();
  /** Election safety: the leader seen for each term. */
  private leaders = new Map<number, NodeId>();
  /**
   * State machine safety: the entry applied at each index, by whom first, and the lowest term any
   * node applying it was in (an upper bound on the term in which it was committed).
   */
  private appliedAt = new Map<number, { shown: string; by: NodeId; term: number }>();
  private violations: string[] = [];

  /** Commands run since the last reset, so that `restore` can rebuild a saved state by replay. */
  private history: Command[] = [];
  private readonly saved = new Map<string, readonly Command[]>();

  run(command: Command): string {
    const handler = this.handlers[command.name];
    if (handler === undefined) throw new Error(`unknown command ${command.name}`);
    const args = new Args(command);
    const out = handler(args);
    args.done();
    if (command.name !== 'save' && command.name !== 'restore') this.history.push(command);
    this.checkLogInvariants();
    if (this.violations.length > 0 && !this.anyMutant()) {
      throw new CheckFailure(`safety violated:\n${this.violations.join('\n')}`);
    }
    return out;
  }

  private readonly handlers: Record<string, ((args: Args) => string) | undefined> = {
    'add-nodes': (a) => this.addNodes(a),
    'init-log': (a) => this.initLog(a),
    reset: () => this.reset(),
    save: (a) => {
      const [name] = a.positionals();
      if (name === undefined) throw new Error('save NAME');
      this.saved.set(name, [...this.history]);
      return 'ok';
    },
    restore: (a) => {
      const [name] = a.positionals();
      const commands = this.saved.get(name ?? '');
      if (commands === undefined) throw new Error(`nothing saved as ${name ?? '(none)'}`);
      // Everything is deterministic, so replaying the commands rebuilds the saved state exactly.
      this.reset();
      for (const command of commands) this.run(command);
      return `restored ${name ?? ''} (replayed ${commands.length} commands)`;
    },
    tick: (a) => {
      const [id, times] = a.positionals();
      return this.tick(this.nodeArg(id), times === undefined ? 1 : toInt(times, 'tick count'));
    },
    'tick-election': (a) => {
      const n = this.single(a);
      return this.tick(n, this.raftOf(n).status().electionTicks);
    },
    'tick-heartbeat': (a) => {
      const n = this.single(a);
      return this.tick(n, n.options.heartbeatTicks ?? RAFT_DEFAULTS.heartbeatTicks);
    },
    campaign: (a) => this.campaign(this.single(a)),
    propose: (a) => this.propose(a),
    'propose-conf-change': (a) => this.proposeConfChange(a),
    'read-index': (a) => this.readIndex(a),
    'transfer-leadership': (a) => this.transferLeadership(a),
    'process-ready': (a) => {
      const ids = a.positionals();
      if (ids.length === 0) throw new Error('process-ready needs node ids');
      return ids.map((id) => this.processReady(this.nodeArg(id))).join('\n');
    },
    'deliver-msgs': (a) => this.deliverMsgs(a),
    stabilize: (a) => this.stabilize(a),
    partition: (a) => this.partition(a.positionals().map((id) => this.nodeArg(id))),
    isolate: (a) => this.partition([this.single(a)]),
    heal: () => {
      this.cuts.clear();
      return 'ok';
    },
    crash: (a) => this.crash(this.single(a)),
    restart: (a) => {
      const node = this.single(a);
      const mutant = a.str('mutant');
      if (mutant !== undefined) node.options = { ...node.options, mutant: this.mutant(mutant) };
      return this.restart(node);
    },
    compact: (a) => this.compact(a),
    status: (a) => this.status(this.single(a)),
    'raft-log': (a) => this.raftLog(this.single(a)),
    'raft-state': () => this.raftState(),
    check: (a) => this.check(a),
    'check-log': (a) => this.checkLog(a),
    'check-logs-equal': (a) => this.checkLogsEqual(a),
    'check-applied': (a) => this.checkApplied(a),
    'check-read': (a) => this.checkRead(a),
    'check-progress': (a) => this.checkProgress(a),
    'check-queued': (a) => this.checkQueued(a),
    'check-safety': (a) => this.checkSafety(a),
  };

  // ------------------------------------------------------------------ nodes

  private addNodes(a: Args): string {
    const [countText] = a.positionals();
    if (countText === undefined) throw new Error('add-nodes needs a count');
    const count = toInt(countText, 'count');
    const voters = a.list('voters')?.map((v) => nid(toInt(v, 'voter')));
    const learners = a.list('learners')?.map((v) => nid(toInt(v, 'learner'))) ?? [];
    const mutantName = a.str('mutant');
    const options: { -readonly [K in keyof NodeOptions]: NodeOptions[K] } = {};
    const put = <K extends keyof NodeOptions>(key: K, value: NodeOptions[K] | undefined): void => {
      if (value !== undefined) options[key] = value;
    };
    put('preVote', a.bool('prevote'));
    put('checkQuorum', a.bool('checkquorum'));
    put('electionTicks', a.int('election'));
    put('heartbeatTicks', a.int('heartbeat'));
    put('maxSizePerMsg', a.int('max-msg-size'));
    put('maxInflightMsgs', a.int('max-inflight'));
    put('maxUncommittedBytes', a.int('max-uncommitted'));
    put('maxSnapshotChunkBytes', a.int('snap-chunk'));
    put('mutant', mutantName === undefined ? undefined : this.mutant(mutantName));
    const jitter = a.int('jitter') ?? 0;
    const bootstrap = a.str('bootstrap') ?? 'log';
    if (bootstrap !== 'log' && bootstrap !== 'snapshot')
      throw new Error('bootstrap= must be log or snapshot');
    const out: string[] = [];
    for (let k = 0; k < count; k++) {
      const num = this.nodes.length + 1;
      const conf = voters === undefined ? undefined : { voters, learners };
      let storage: MemoryStorage;
      if (conf !== undefined && bootstrap === 'snapshot') {
        storage = new MemoryStorage();
        storage.applySnapshot({ meta: { index: 0, term: 0, conf }, data: EMPTY });
      } else {
        storage = new MemoryStorage(conf);
      }
      const node: EnvNode = {
        num,
        id: nid(num),
        storage,
        raft: undefined,
        options,
        jitter,
        sm: { baseIndex: 0, baseValues: [], applied: [] },
        reads: new Map(),
      };
      this.nodes.push(node);
      // The bootstrap entries are membership only: nothing for the state machine, so a fresh
      // node starts with them applied (its membership is known before its first Ready).
      this.start(node, storage.initialState().hardState.commit);
      const st = this.raftOf(node).status();
      out.push(
        `INFO ${num} started: Term:${st.term} Commit:${st.commit} Applied:${st.applied} ` +
          `LastIndex:${st.lastIndex} ${showConf(st.conf)}`,
      );
    }
    return out.join('\n');
  }

  private mutant(name: string): Mutant {
    const found = MUTANTS.find((m) => m === name);
    if (found === undefined) throw new Error(`unknown mutant ${name}; known: ${MUTANTS.join(', ')}`);
    return found;
  }

  private start(node: EnvNode, applied: number): void {
    const jitter = node.jitter;
    node.raft = new RaftNode(
      {
        id: node.id,
        rng: { int: (bound: number) => Math.min(jitter, bound - 1) },
        ...node.options,
        applied,
      },
      node.storage,
    );
  }

  private initLog(a: Args): string {
    const node = this.single(a);
    const terms = a.list('terms')?.map((t) => toInt(t, 'term')) ?? [];
    const conf = this.raftOf(node).confState();
    const storage = new MemoryStorage();
    storage.applySnapshot({ meta: { index: 0, term: 0, conf }, data: EMPTY });
    storage.append(terms.map((term, i) => ({ index: i + 1, term, type: 'normal' as const, data: EMPTY })));
    const lastTerm = terms[terms.length - 1] ?? 0;
    storage.setHardState({
      term: a.int('term') ?? lastTerm,
      vote: a.str('vote') === undefined ? '' : nid(a.int('vote')!),
      commit: a.int('commit') ?? 0,
    });
    node.storage = storage;
    node.sm = { baseIndex: 0, baseValues: [], applied: [] };
    this.dropQueued(node);
    this.start(node, 0);
    return this.raftLog(node);
  }

  private reset(): string {
    this.history = [];
    this.nodes = [];
    this.queue = [];
    this.cuts.clear();
    this.leaders.clear();
    this.appliedAt.clear();
    this.violations = [];
    return 'ok';
  }

  private nodeArg(text: string | undefined): EnvNode {
    if (text === undefined) throw new Error('missing node id');
    const num = toInt(text.startsWith('n') ? text.slice(1) : text, 'node id');
    const node = this.nodes[num - 1];
    if (node === undefined) throw new Error(`no node ${text}`);
    return node;
  }

  private single(a: Args): EnvNode {
    const ids = a.positionals();
    if (ids.length !== 1) throw new Error('expected exactly one node id');
    return this.nodeArg(ids[0]);
  }

  private raftOf(node: EnvNode): RaftNode {
    if (node.raft === undefined) throw new Error(`node ${node.num} is crashed`);
    return node.raft;
  }

  private anyMutant(): boolean {
    return this.nodes.some((n) => n.options.mutant !== undefined);
  }

  // ------------------------------------------------------------------ observation

  private observe(node: EnvNode): Observed | undefined {
    if (node.raft === undefined) return undefined;
    const st = node.raft.status();
    return { role: st.role, term: st.term };
  }

  /** INFO lines for a change of role or term, and the election-safety check. */
  private transitions(node: EnvNode, before: Observed | undefined): string[] {
    const after = this.observe(node);
    if (after === undefined) return [];
    if (after.role === 'leader') {
      const known = this.leaders.get(after.term);
      if (known === undefined) this.leaders.set(after.term, node.id);
      else if (known !== node.id) {
        this.violations.push(
          `election safety: ${showId(known)} and ${node.num} are both leaders of term ${after.term}`,
        );
      }
    }
    if (before?.role === after.role && before.term === after.term) return [];
    return [`INFO ${node.num} became ${after.role} at term ${after.term}`];
  }

  // ------------------------------------------------------------------ inputs

  private tick(node: EnvNode, times: number): string {
    const raft = this.raftOf(node);
    const out: string[] = [];
    for (let i = 0; i < times; i++) {
      const before = this.observe(node);
      raft.tick();
      out.push(...this.transitions(node, before));
    }
    return out.join('\n');
  }

  /** Ticks until the node starts a new election: it becomes (pre-)candidate, or a candidate's term grows. */
  private campaign(node: EnvNode): string {
    const raft = this.raftOf(node);
    const limit = 2 * raft.status().electionTicks + 1;
    const start = this.observe(node)!;
    const started = (): boolean => {
      const now = raft.status();
      return (
        now.role !== 'follower' &&
        now.role !== 'leader' &&
        (now.role !== start.role || now.term !== start.term)
      );
    };
    const out: string[] = [];
    for (let i = 0; i < limit && !started(); i++) {
      const before = this.observe(node);
      raft.tick();
      out.push(...this.transitions(node, before));
    }
    if (!started()) throw new Error(`node ${node.num} did not start an election within ${limit} ticks`);
    return out.join('\n');
  }

  private outcome(a: Args, error: RaftError | undefined, ok: string): string {
    const expect = a.str('expect');
    const actual = error === undefined ? 'ok' : error.code;
    if (expect !== undefined && expect !== actual) {
      throw new CheckFailure(`expected ${expect}, got ${actual}${error ? `: ${error.message}` : ''}`);
    }
    return error === undefined ? ok : `error ${error.code}: ${error.message}`;
  }

  private propose(a: Args): string {
    const [id, data] = a.positionals();
    if (data === undefined) throw new Error('propose ID DATA');
    const result = this.raftOf(this.nodeArg(id)).propose(encoder.encode(data));
    return result.ok
      ? this.outcome(a, undefined, `ok index=${result.index} term=${result.term}`)
      : this.outcome(a, result.error, '');
  }

  private proposeConfChange(a: Args): string {
    const [id, type, target] = a.positionals();
    if (type !== 'addVoter' && type !== 'addLearner' && type !== 'removeNode') {
      throw new Error('propose-conf-change ID addVoter|addLearner|removeNode NODE');
    }
    const result = this.raftOf(this.nodeArg(id)).proposeConfChange({
      type: type satisfies ConfChangeType,
      nodeId: nid(toInt(target ?? '', 'node id')),
    });
    return result.ok
      ? this.outcome(a, undefined, `ok index=${result.index} term=${result.term}`)
      : this.outcome(a, result.error, '');
  }

  private readIndex(a: Args): string {
    const [id, ctx] = a.positionals();
    if (ctx === undefined) throw new Error('read-index ID CTX');
    return this.outcome(a, this.raftOf(this.nodeArg(id)).readIndex(ctx), 'ok');
  }

  private transferLeadership(a: Args): string {
    const from = this.nodeArg(a.str('from'));
    // The target need not exist: the leader must refuse a non-member itself.
    const to = nid(toInt(a.str('to') ?? '', 'to'));
    return this.outcome(a, this.raftOf(from).transferLeadership(to), 'ok');
  }

  // ------------------------------------------------------------------ Ready handling

  private processReady(node: EnvNode): string {
    const raft = this.raftOf(node);
    if (!raft.hasReady()) return `> ${node.num} has no Ready`;
    const rd = raft.ready();
    const lines = showReady(rd);
    lines.push(...this.handleReady(node, raft, rd));
    return [`> ${node.num} handling Ready`, ...lines.map((l) => `  ${l}`)].join('\n');
  }

  /** Handles a Ready in the contract's order (types.ts); returns INFO lines. */
  private handleReady(node: EnvNode, raft: RaftNode, rd: Ready): string[] {
    const info: string[] = [];
    // 1. Leader replication traffic may leave before anything is persisted.
    this.queue.push(...rd.messages);
    // 2. Persist: snapshot, entries, hard state.
    if (rd.snapshot !== undefined) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
    // 3. Messages promising durable state.
    this.queue.push(...rd.messagesAfterPersist);
    // 4. Apply the snapshot, then the committed entries.
    if (rd.snapshot !== undefined) {
      const meta = rd.snapshot.meta;
      node.sm = {
        baseIndex: meta.index,
        baseValues: JSON.parse(decoder.decode(rd.snapshot.data) || '[]') as string[],
        applied: [],
      };
      info.push(`INFO ${node.num} restored snapshot at ${meta.term}/${meta.index}`);
    }
    let confChanged = false;
    const term = raft.status().term;
    for (const e of rd.committedEntries) {
      node.sm.applied.push(e);
      this.recordApplied(node, e, term);
      if (e.type === 'conf') confChanged = true;
    }
    // 5. Read states (the application would serve them once applied up to their index).
    for (const rs of rd.readStates) {
      const list = node.reads.get(rs.context) ?? [];
      list.push(rs);
      node.reads.set(rs.context, list);
    }
    const before = this.observe(node);
    raft.advance(rd);
    if (confChanged) info.push(`INFO ${node.num} switched to configuration ${showConf(raft.confState())}`);
    info.push(...this.transitions(node, before));
    return info;
  }

  private recordApplied(node: EnvNode, e: Entry, term: number): void {
    const shown = showEntry(e);
    const known = this.appliedAt.get(e.index);
    if (known === undefined) {
      this.appliedAt.set(e.index, { shown, by: node.id, term });
    } else if (known.shown === shown) {
      known.term = Math.min(known.term, term);
    } else {
      this.violations.push(
        `state machine safety: ${node.num} applied ${shown} at index ${e.index}, ` +
          `but ${showId(known.by)} applied ${known.shown}`,
      );
    }
  }

  /** Values the state machine holds once it has applied up to `index`. */
  private smValuesAt(node: EnvNode, index: number): string[] {
    const values = [...node.sm.baseValues];
    for (const e of node.sm.applied) {
      if (e.index > index) break;
      if (e.type === 'normal' && e.data.length > 0) values.push(decoder.decode(e.data));
    }
    return values;
  }

  private smAppliedIndex(node: EnvNode): number {
    return node.sm.applied[node.sm.applied.length - 1]?.index ?? node.sm.baseIndex;
  }

  // ------------------------------------------------------------------ network

  private isCut(m: Message): boolean {
    return this.cuts.has(`${m.from}>${m.to}`);
  }

  private deliverMsgs(a: Args): string {
    const typeName = a.str('type');
    let type: MessageType | undefined;
    if (typeName !== undefined) {
      type = parseMessageType(typeName);
      if (type === undefined) throw new Error(`unknown message type ${typeName}`);
    }
    const drop = new Set((a.list('drop') ?? []).map((id) => this.nodeArg(id).id));
    const ids = a.positionals().map((id) => this.nodeArg(id).id);
    const targets = new Set(ids.length > 0 || drop.size > 0 ? ids : this.nodes.map((n) => n.id));
    const matches = (m: Message): boolean => type === undefined || m.type === type;
    const out: string[] = [];
    const kept: Message[] = [];
    const byTarget = new Map<NodeId, Message[]>();
    for (const m of this.queue) {
      if (matches(m) && drop.has(m.to)) {
        out.push(`dropped: ${showMessage(m)}`);
      } else if (matches(m) && targets.has(m.to)) {
        const list = byTarget.get(m.to) ?? [];
        list.push(m);
        byTarget.set(m.to, list);
      } else {
        kept.push(m);
      }
    }
    this.queue = kept;
    out.splice(0, out.length, ...collapseRuns(out));
    for (const to of sortIds([...byTarget.keys()])) out.push(this.deliverTo(to, byTarget.get(to)!));
    return out.length === 0 ? 'no messages' : out.join('\n');
  }

  private deliverTo(to: NodeId, msgs: readonly Message[]): string {
    const target = this.nodes.find((n) => n.id === to);
    const lines = [`> ${showId(to)} receiving messages`];
    for (const m of msgs) {
      if (this.isCut(m)) {
        lines.push(`  ${showMessage(m)} DROPPED (partitioned)`);
        continue;
      }
      if (target?.raft === undefined) {
        lines.push(`  ${showMessage(m)} DROPPED (down)`);
        continue;
      }
      lines.push(`  ${showMessage(m)}`);
      const before = this.observe(target);
      target.raft.step(m);
      lines.push(...this.transitions(target, before).map((l) => `  ${l}`));
    }
    return collapseRuns(lines).join('\n');
  }

  private stabilize(a: Args): string {
    const given = a.positionals().map((id) => this.nodeArg(id));
    const nodes = given.length > 0 ? given : this.nodes;
    const ids = new Set(nodes.map((n) => n.id));
    const out: string[] = [];
    for (let round = 0; round < 1000; round++) {
      let progress = false;
      for (const node of nodes) {
        if (node.raft?.hasReady() === true) {
          out.push(this.processReady(node));
          progress = true;
        }
      }
      const byTarget = new Map<NodeId, Message[]>();
      const kept: Message[] = [];
      for (const m of this.queue) {
        if (ids.has(m.to)) {
          const list = byTarget.get(m.to) ?? [];
          list.push(m);
          byTarget.set(m.to, list);
        } else {
          kept.push(m);
        }
      }
      this.queue = kept;
      for (const node of nodes) {
        const msgs = byTarget.get(node.id);
        if (msgs === undefined) continue;
        out.push(this.deliverTo(node.id, msgs));
        progress = true;
      }
      if (!progress) return out.length === 0 ? 'ok' : out.join('\n');
    }
    throw new Error('stabilize: no quiescence after 1000 rounds');
  }

  private partition(side: readonly EnvNode[]): string {
    if (side.length === 0) throw new Error('partition needs node ids');
    const inside = new Set(side.map((n) => n.id));
    const outside = this.nodes.filter((n) => !inside.has(n.id)).map((n) => n.id);
    for (const a of inside) {
      for (const b of outside) {
        this.cuts.add(`${a}>${b}`);
        this.cuts.add(`${b}>${a}`);
      }
    }
    return `cut ${showIds([...inside])} from ${showIds(outside)}`;
  }

  private dropQueued(node: EnvNode): string[] {
    const dropped: string[] = [];
    this.queue = this.queue.filter((m) => {
      if (m.from !== node.id && m.to !== node.id) return true;
      dropped.push(`dropped: ${showMessage(m)}`);
      return false;
    });
    return dropped;
  }

  private crash(node: EnvNode): string {
    this.raftOf(node);
    node.raft = undefined;
    return [`INFO ${node.num} crashed`, ...collapseRuns(this.dropQueued(node))].join('\n');
  }

  private restart(node: EnvNode): string {
    if (node.raft !== undefined) throw new Error(`node ${node.num} is running; crash it first`);
    // Only the disk survives: the state machine restarts from the storage's snapshot and the
    // node re-applies the committed entries after it.
    const snap = node.storage.snapshot();
    node.sm = {
      baseIndex: snap.meta.index,
      baseValues: JSON.parse(decoder.decode(snap.data) || '[]') as string[],
      applied: [],
    };
    this.start(node, snap.meta.index);
    const st = this.raftOf(node).status();
    return (
      `INFO ${node.num} restarted: Term:${st.term} Vote:${showId(st.vote)} Commit:${st.commit} ` +
      `Applied:${st.applied} LastIndex:${st.lastIndex}`
    );
  }

  // ------------------------------------------------------------------ storage

  private compact(a: Args): string {
    const [id, indexText] = a.positionals();
    const node = this.nodeArg(id);
    const index = toInt(indexText ?? '', 'index');
    const applied = this.smAppliedIndex(node);
    if (index > applied) throw new Error(`cannot snapshot at ${index}: node ${node.num} applied ${applied}`);
    const data = encoder.encode(JSON.stringify(this.smValuesAt(node, index)));
    node.storage.createSnapshot(index, this.confAt(node, index), data);
    return this.raftLog(node);
  }

  /** Membership as of `index`: the storage snapshot's, plus the conf entries after it. */
  private confAt(node: EnvNode, index: number): ConfState {
    const storage = node.storage;
    let conf = storage.snapshot().meta.conf;
    const from = storage.snapshot().meta.index + 1;
    if (index >= from) {
      for (const e of storage.entries(from, index + 1, Number.MAX_SAFE_INTEGER)) {
        if (e.type !== 'conf') continue;
        const change = decodeConfChange(e.data);
        if (change !== undefined) conf = applyConfChange(conf, change);
      }
    }
    return conf;
  }

  /** The persisted log. */
  private logEntries(node: EnvNode): Entry[] {
    const s = node.storage;
    if (s.lastIndex() < s.firstIndex()) return [];
    return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  }

  private raftLog(node: EnvNode): string {
    const s = node.storage;
    const lines: string[] = [];
    const meta = s.snapshot().meta;
    if (meta.index > 0) lines.push(`snapshot ${meta.term}/${meta.index} ${showConf(meta.conf)}`);
    const entries = this.logEntries(node);
    if (entries.length === 0)
      lines.push(`log is empty: first index=${s.firstIndex()}, last index=${s.lastIndex()}`);
    lines.push(...entries.map(showEntry));
    return lines.join('\n');
  }

  // ------------------------------------------------------------------ inspection

  private status(node: EnvNode): string {
    const st = this.raftOf(node).status();
    const lines = [
      `${node.num}: ${st.role} Term:${st.term} Vote:${showId(st.vote)} Lead:${showId(st.leader)} ` +
        `Commit:${st.commit} Applied:${st.applied} LastIndex:${st.lastIndex} ${showConf(st.conf)}` +
        (st.leadTransferee === '' ? '' : ` Transferee:${showId(st.leadTransferee)}`),
    ];
    for (const id of sortIds([...st.progress.keys()])) {
      const pr = st.progress.get(id)!;
      lines.push(
        `  ${showId(id)}: ${pr.state} match=${pr.match} next=${pr.next}` +
          (pr.isLearner ? ' learner' : '') +
          (pr.recentActive ? '' : ' inactive'),
      );
    }
    return lines.join('\n');
  }

  private raftState(): string {
    return this.nodes
      .map((n) => {
        if (n.raft === undefined) return `${n.num}: crashed`;
        const st = n.raft.status();
        const membership = st.conf.voters.includes(n.id)
          ? 'voter'
          : st.conf.learners.includes(n.id)
            ? 'learner'
            : 'non-member';
        return `${n.num}: ${st.role} (${membership}) Term:${st.term} Lead:${showId(st.leader)}`;
      })
      .join('\n');
  }

  // ------------------------------------------------------------------ assertions

  private check(a: Args): string {
    const node = this.single(a);
    const problems: string[] = [];
    const crashed = a.bool('crashed');
    if (crashed !== undefined && crashed !== (node.raft === undefined)) {
      problems.push(`crashed: expected ${crashed}, got ${node.raft === undefined}`);
    }
    if (node.raft === undefined) {
      if (crashed === true) return 'ok';
      throw new CheckFailure(`check ${node.num}: node is crashed`);
    }
    const st = node.raft.status();
    const expectEq = (key: string, actual: string | number): void => {
      const expected = a.str(key);
      if (expected !== undefined && expected !== String(actual)) {
        problems.push(`${key}: expected ${expected}, got ${actual}`);
      }
    };
    const expectIds = (key: string, actual: readonly NodeId[]): void => {
      const expected = a.list(key);
      if (expected === undefined) return;
      const want = showIds(expected.map((v) => nid(toInt(v, key))));
      if (want !== showIds(actual)) problems.push(`${key}: expected ${want}, got ${showIds(actual)}`);
    };
    expectEq('role', st.role);
    expectEq('term', st.term);
    expectEq('vote', showId(st.vote));
    expectEq('leader', showId(st.leader));
    expectEq('commit', st.commit);
    expectEq('applied', st.applied);
    expectEq('last-index', st.lastIndex);
    expectEq('first-index', node.storage.firstIndex());
    expectEq('transferee', showId(st.leadTransferee));
    expectIds('voters', st.conf.voters);
    expectIds('learners', st.conf.learners);
    if (problems.length > 0) throw new CheckFailure(`check ${node.num} failed:\n${problems.join('\n')}`);
    return 'ok';
  }

  private checkLog(a: Args): string {
    const node = this.single(a);
    const terms = (a.list('terms') ?? []).map((t) => toInt(t, 'term'));
    const first = a.int('first') ?? node.storage.firstIndex();
    const actual = this.logEntries(node)
      .filter((e) => e.index >= first)
      .map((e) => e.term);
    if (actual.join(',') !== terms.join(',')) {
      throw new CheckFailure(
        `check-log ${node.num}: expected terms (${terms.join(',')}) from index ${first}, got (${actual.join(',')})`,
      );
    }
    return 'ok';
  }

  private checkLogsEqual(a: Args): string {
    const nodes = a.positionals().map((id) => this.nodeArg(id));
    const [first, ...rest] = nodes;
    if (first === undefined) throw new Error('check-logs-equal needs node ids');
    const show = (n: EnvNode): Map<number, string> =>
      new Map(this.logEntries(n).map((e) => [e.index, showEntry(e)]));
    const base = show(first);
    for (const other of rest) {
      const log = show(other);
      if (first.storage.lastIndex() !== other.storage.lastIndex()) {
        throw new CheckFailure(
          `check-logs-equal: ${first.num} ends at ${first.storage.lastIndex()}, ` +
            `${other.num} at ${other.storage.lastIndex()}`,
        );
      }
      for (const [index, shown] of log) {
        const mine = base.get(index);
        if (mine !== undefined && mine !== shown) {
          throw new CheckFailure(
            `check-logs-equal: at ${index}, ${first.num} has ${mine}, ${other.num} has ${shown}`,
          );
        }
      }
    }
    return 'ok';
  }

  private checkApplied(a: Args): string {
    const nodes = a.positionals().map((id) => this.nodeArg(id));
    const expected = a.list('data');
    const problems: string[] = [];
    let reference = expected === undefined ? undefined : JSON.stringify(expected);
    for (const node of nodes) {
      const values = JSON.stringify(this.smValuesAt(node, Number.MAX_SAFE_INTEGER));
      reference ??= values;
      if (values !== reference) problems.push(`${node.num} holds ${values}, expected ${reference}`);
    }
    if (problems.length > 0) throw new CheckFailure(`check-applied failed:\n${problems.join('\n')}`);
    return 'ok';
  }

  private checkRead(a: Args): string {
    const [id, ctx] = a.positionals();
    const node = this.nodeArg(id);
    if (ctx === undefined) throw new Error('check-read ID CTX index=N|none');
    const expected = a.str('index');
    if (expected === undefined) throw new Error('check-read needs index=');
    const got = node.reads.get(ctx) ?? [];
    const actual = got.length === 0 ? 'none' : got.map((r) => r.index).join(',');
    if (actual !== expected) {
      throw new CheckFailure(`check-read ${node.num} ${ctx}: expected index ${expected}, got ${actual}`);
    }
    return 'ok';
  }

  private checkProgress(a: Args): string {
    const [leaderId, peerId] = a.positionals();
    const leader = this.nodeArg(leaderId);
    const peer = this.nodeArg(peerId);
    const pr = this.raftOf(leader).status().progress.get(peer.id);
    if (pr === undefined)
      throw new CheckFailure(`check-progress: ${leader.num} has no progress for ${peer.num}`);
    const problems: string[] = [];
    const expectEq = (key: string, actual: string | number): void => {
      const expected = a.str(key);
      if (expected !== undefined && expected !== String(actual)) {
        problems.push(`${key}: expected ${expected}, got ${actual}`);
      }
    };
    expectEq('state', pr.state);
    expectEq('match', pr.match);
    expectEq('next', pr.next);
    if (problems.length > 0) {
      throw new CheckFailure(`check-progress ${leader.num} ${peer.num} failed:\n${problems.join('\n')}`);
    }
    return 'ok';
  }

  private checkQueued(a: Args): string {
    const from = a.str('from');
    const to = a.str('to');
    const typeName = a.str('type');
    const count = a.int('count');
    const type = typeName === undefined ? undefined : parseMessageType(typeName);
    if (typeName !== undefined && type === undefined) throw new Error(`unknown message type ${typeName}`);
    const matching = this.queue.filter(
      (m) =>
        (from === undefined || showId(m.from) === from) &&
        (to === undefined || showId(m.to) === to) &&
        (type === undefined || m.type === type),
    );
    const ok = count === undefined ? matching.length > 0 : matching.length === count;
    if (!ok) {
      const what = `from=${from ?? '*'} to=${to ?? '*'} type=${type === undefined ? '*' : ETCD_TYPE_NAMES[type]}`;
      throw new CheckFailure(
        `check-queued ${what}: expected ${count === undefined ? 'at least 1' : String(count)}, ` +
          `found ${matching.length}`,
      );
    }
    return 'ok';
  }

  private checkSafety(a: Args): string {
    const expect = a.str('expect') ?? 'ok';
    if (expect !== 'ok' && expect !== 'violated') throw new Error('expect= must be ok or violated');
    const actual = this.violations.length === 0 ? 'ok' : 'violated';
    if (actual !== expect) {
      throw new CheckFailure(
        `check-safety: expected ${expect}, got ${actual}` +
          (this.violations.length > 0 ? `:\n${this.violations.join('\n')}` : ''),
      );
    }
    return this.violations.length === 0 ? 'ok' : this.violations.map((v) => `VIOLATION ${v}`).join('\n');
  }

  // ------------------------------------------------------------------ invariants

  /**
   * Log matching (§5.3): if two persisted logs hold an entry with the same index and term, they
   * are identical up to it. Leader completeness (§5.4): a leader holds every entry committed in
   * an earlier term; an entry applied by a node in term t was committed in a term <= t, so every
   * leader of a term > t must hold it (a deposed leader that does not know it yet is not checked).
   */
  private checkLogInvariants(): void {
    const logs = this.nodes.map((n) => ({
      node: n,
      entries: new Map(this.logEntries(n).map((e) => [e.index, e])),
    }));
    for (let i = 0; i < logs.length; i++) {
      for (let j = i + 1; j < logs.length; j++) {
        const a = logs[i]!;
        const b = logs[j]!;
        let highestSame = 0;
        for (const [index, e] of a.entries) {
          if (b.entries.get(index)?.term === e.term) highestSame = Math.max(highestSame, index);
        }
        for (const [index, e] of a.entries) {
          if (index > highestSame) continue;
          const other = b.entries.get(index);
          if (other !== undefined && showEntry(other) !== showEntry(e)) {
            this.report(
              `log matching: ${a.node.num} and ${b.node.num} agree at ${highestSame} but differ at ${index} ` +
                `(${showEntry(e)} vs ${showEntry(other)})`,
            );
          }
        }
      }
    }
    for (const { node, entries } of logs) {
      if (node.raft?.status().role !== 'leader') continue;
      const first = node.storage.firstIndex();
      const term = node.raft.status().term;
      for (const [index, applied] of this.appliedAt) {
        if (index < first || applied.term >= term) continue;
        const e = entries.get(index);
        if (e === undefined || showEntry(e) !== applied.shown) {
          this.report(
            `leader completeness: leader ${node.num} lacks ${applied.shown} applied by ${showId(applied.by)}`,
          );
        }
      }
    }
  }

  private report(violation: string): void {
    if (!this.violations.includes(violation)) this.violations.push(violation);
  }
}
