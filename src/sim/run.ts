// One simulated run: a seed fixes the cluster size, the Raft configuration, the fault profile,
// the workload and every event. Timeline:
//
//   [0, healAt)          faults: the nemesis strikes, clients run, invariants checked after
//                        every step;
//   healAt               heal: every link restored, every server restarted, no loss;
//   (healAt, +bound]     liveness: a leader must emerge, every client must complete an
//                        operation invoked after the heal (some write among them), then the
//                        members must converge to the same applied state;
//   end                  the client history must be linearizable.

import type { Mutant, RaftConfigInput } from '../raft/index.js';
import { Cluster } from './cluster.js';
import type { FaultProfile } from './faults.js';
import { Nemesis, randomProfile } from './faults.js';
import { GoneHints } from './gone-hints.js';
import { checkHistory, explainIllegal, firstCulpritReturn } from './history.js';
import { Invariants } from './invariants.js';
import { MembershipOperator } from './membership.js';
import { Network } from './network.js';
import { SimRandom } from './random.js';
import { Scheduler } from './scheduler.js';
import type { DiskParams, NodeCounters, NodeEnv, SnapshotParams } from './sim-node.js';
import { Trace } from './trace.js';
import { SimViolation, violation } from './violation.js';
import type { ViolationKind } from './violation.js';
import { Workload } from './workload.js';
import type { WorkloadParams } from './workload.js';

export interface SimOptions {
  /** Initial voters; by default drawn from the seed (mostly 3, often 5, sometimes 1). */
  readonly nodes?: 1 | 3 | 5;
  /** A planted bug in the core (see src/raft/config.ts). */
  readonly mutant?: Mutant;
  /** Length of the fault phase (ms of simulated time); by default 2000-3000, drawn from the seed. */
  readonly faultMs?: number;
  /** How long after the heal the cluster has to show progress and converge (ms). Default 10000. */
  readonly healBoundMs?: number;
  /** Instead of healing, cut every link for good: the run must then fail its liveness check. */
  readonly neverHeal?: boolean;
  /** Keep every trace record for SimResult.fullTrace (slower; for the determinism test). */
  readonly fullTrace?: boolean;
  /** Lines of trace in SimResult.trace. Default 50. */
  readonly traceLines?: number;
  /** Include plain heartbeats in SimResult.trace. Default false. */
  readonly traceHeartbeats?: boolean;
  /** Check the client history for linearizability at the end. Default true. */
  readonly linearizability?: boolean;
  /** Step budget of the linearizability check (an exhausted budget is reported, not a failure). */
  readonly lincheckMaxSteps?: number;
}

export interface SimStats {
  readonly simTimeMs: number;
  readonly events: number;
  readonly nodes: number;
  readonly serversCreated: number;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly messagesDropped: number;
  readonly leaders: number;
  readonly maxTerm: number;
  readonly faults: number;
  /** "Peer gone" hints given to nodes (after crashes, and false alarms): see gone-hints.ts. */
  readonly hintsGiven: number;
  readonly crashes: number;
  readonly restarts: number;
  /** Snapshots taken by state machines, and restored from the leader's (chunked transfer). */
  readonly snapshotsTaken: number;
  readonly snapshotsRestored: number;
  /** Times a leader asked for its snapshot and was told it was still being produced. */
  readonly snapshotsBusy: number;
  readonly membershipChanges: number;
  readonly opsOk: number;
  readonly opsUnknown: number;
  readonly opsFailed: number;
  readonly opsRefused: number;
  readonly lincheck: 'ok' | 'illegal' | 'unknown' | 'skipped';
  readonly lincheckSteps: number;
}

export interface SimViolationReport {
  readonly kind: ViolationKind;
  readonly message: string;
  /** Simulated time of detection (ms). */
  readonly time: number;
  /** Set when the trace shows the run up to this time rather than up to the detection. */
  readonly traceUntil?: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation?: SimViolationReport;
  /** The last trace lines (oldest first). */
  readonly trace: readonly string[];
  /** Every trace line, with options.fullTrace. */
  readonly fullTrace?: string;
  readonly stats: SimStats;
  /** The command that replays this run. */
  readonly replay: string;
  /** The seed's drawn setup, one line. */
  readonly setup: string;
}

export function replayCommand(seed: number, options: SimOptions = {}): string {
  let cmd = `npm run sim -- --seed ${seed}`;
  if (options.mutant !== undefined) cmd += ` --mutant ${options.mutant}`;
  if (options.nodes !== undefined) cmd += ` --nodes ${options.nodes}`;
  return cmd;
}

const DEFAULT_HEAL_BOUND_MS = 10_000;
const MONITOR_EVERY_MS = 10;
const MAX_EVENTS = 5_000_000;

/**
 * Runs one seed. RaftError extends Error and the core refuses requests often (NOT_LEADER):
 * capturing their stack traces costs about a tenth of a run, and nothing here reads them. So
 * stacks are off during the run; should the simulator itself fail, the seed is run again with
 * stacks on (runs are deterministic) to report where.
 */
export function runSeed(seed: number, options: SimOptions = {}): SimResult {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let result: SimResult;
  try {
    result = simulate(seed, options, undefined);
    // A history found not linearizable at the end: the interesting part of the trace is long
    // gone from the ring. Run again keeping everything and show the lead-up to the first
    // operation that could not be linearized.
    const focus = result.violation?.traceUntil;
    if (focus !== undefined && options.fullTrace !== true) result = simulate(seed, options, focus);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return result.violation?.kind === 'simulator-error' ? simulate(seed, options, undefined) : result;
}

function simulate(seed: number, options: SimOptions, traceUntil: number | undefined): SimResult {
  const rand = new SimRandom(seed);
  const sched = new Scheduler();
  // The ring keeps more records than lines shown: plain heartbeats are filtered out when shown.
  const full = options.fullTrace === true || traceUntil !== undefined;
  const trace = new Trace(sched, Math.max(400, (options.traceLines ?? 50) * 8), full);
  const inv = new Invariants();

  // ---- the seed's setup (the order of draws is part of the seed's meaning)
  const nodeCount = options.nodes ?? Number(rand.weighted({ '1': 0.05, '3': 0.6, '5': 0.35 }));
  const withMembership = rand.chance(0.5);
  const profile: FaultProfile = randomProfile(rand, withMembership);
  // Leader hunting pays off most with one entry per message and one message in flight: a new
  // leader then re-replicates an earlier term's entries one round trip at a time.
  const hunting = profile.style === 'leaders';
  const raft: Omit<RaftConfigInput, 'id' | 'rng' | 'applied'> = {
    electionTicks: 10,
    heartbeatTicks: rand.intIn(1, 3),
    preVote: rand.chance(0.85),
    checkQuorum: rand.chance(0.85),
    maxSizePerMsg: hunting && rand.chance(0.85) ? 1 : rand.pick([1, 64, 200, 1 << 20]),
    maxInflightMsgs: hunting && rand.chance(0.85) ? 1 : rand.pick([1, 2, 4, 64]),
    maxInflightBytes: rand.pick([256, 1 << 20]),
    maxUncommittedBytes: rand.pick([300, 1 << 20]),
    maxCommittedBytesPerReady: rand.pick([1, 128, 1 << 20]),
    maxSnapshotChunkBytes: rand.pick([16, 32, 64, 128, 256]),
    mutant: options.mutant,
  };
  const disk: DiskParams = {
    min: rand.range(0.1, 0.5),
    mean: rand.range(0.2, 2),
    slowChance: rand.pick([0, 0.02, 0.05]),
  };
  const snapshots: SnapshotParams = {
    chance: rand.pick([0.05, 0.2, 0.5]),
    minGap: rand.intIn(3, 20),
    maxTrailing: rand.intIn(0, 5),
  };
  const workloadParams: WorkloadParams = {
    clients: rand.intIn(3, 5),
    keys: rand.intIn(1, 3),
    thinkMs: rand.range(2, 20),
    opTimeoutMs: rand.range(300, 600),
    readRetryMs: rand.range(80, 200),
    mix: { read: 4, write: 3, cas: 2 },
  };
  const healAt = options.faultMs ?? rand.range(2000, 3000);
  const healBound = options.healBoundMs ?? DEFAULT_HEAL_BOUND_MS;
  const tickMs = 10;
  const drift = 0.2;

  // ---- wiring (callbacks go through `late`, filled in once every part exists)
  const late: { workload?: Workload; nemesis?: Nemesis; membership?: MembershipOperator } = {};
  const net = new Network(sched, rand, trace, (m) => {
    cluster.deliver(m);
  });
  const counters: NodeCounters = {
    crashes: 0,
    restarts: 0,
    snapshotsTaken: 0,
    snapshotsRestored: 0,
    snapshotsBusy: 0,
  };
  const env: NodeEnv = {
    counters,
    sched,
    rand,
    net,
    trace,
    inv,
    disk,
    snapshots,
    raftConfig: (id, applied) => ({ ...raft, id, rng: rand, applied }),
    onProposalResult: (node, reqId, output) => late.workload?.onProposalResult(node, reqId, output),
    onReadReady: (node, ctx) => late.workload?.onReadReady(node, ctx),
    onLeader: (node, term) => {
      trace.add(node.id, 'role', `elected leader of term ${term}`);
      late.nemesis?.onLeader(node, term);
    },
    onLeaderCommit: (node) => late.nemesis?.onLeaderCommit(node),
    onConfApplied: (node, conf) => late.membership?.onConfApplied(node, conf),
  };
  const cluster = new Cluster(env, rand, tickMs, drift);
  const workload = new Workload(sched, rand, trace, cluster, workloadParams);
  const setup =
    `${nodeCount} nodes${withMembership ? ' +membership' : ''}, heartbeat ${raft.heartbeatTicks} ticks, ` +
    `preVote ${raft.preVote}, checkQuorum ${raft.checkQuorum}, maxSizePerMsg ${raft.maxSizePerMsg}, ` +
    `inflight ${raft.maxInflightMsgs}, chunk ${raft.maxSnapshotChunkBytes}B, ${workloadParams.clients} clients on ` +
    `${workloadParams.keys} keys, ${profile.style} faults every ~${profile.gapMs.toFixed(0)}ms, heal at ${healAt.toFixed(0)}ms` +
    (options.mutant === undefined ? '' : `, mutant ${options.mutant}`);

  // An object, not a `let`: the phase changes inside scheduled callbacks.
  const run: { phase: 'faults' | 'heal' | 'drain' | 'done' } = { phase: 'faults' };
  let violationReport: SimViolationReport | undefined;
  let lincheck: SimStats['lincheck'] = 'skipped';
  let lincheckSteps = 0;
  let nemesis: Nemesis | undefined;
  let hints: GoneHints | undefined;
  let membership: MembershipOperator | undefined;

  try {
    trace.add('-', 'start', setup);
    cluster.bootstrap(nodeCount);
    membership = withMembership
      ? new MembershipOperator(
          sched,
          rand,
          trace,
          cluster,
          { minVoters: 1, maxVoters: 5, maxMembers: 6 },
          cluster.founding,
          nodeCount,
        )
      : undefined;
    hints = new GoneHints(seed, sched, trace, cluster);
    nemesis = new Nemesis(sched, rand, trace, net, cluster, membership, profile, hints);
    late.workload = workload;
    late.nemesis = nemesis;
    if (membership !== undefined) late.membership = membership;
    nemesis.start();
    workload.start();

    const nem = nemesis;
    sched.at(healAt, () => {
      if (options.neverHeal === true) nem.cutEverything();
      else nem.heal();
      workload.markHeal(sched.now);
      run.phase = 'heal';
      monitor();
    });
    sched.at(healAt + healBound, () => {
      if (run.phase === 'done') return;
      violation('liveness', livenessReport(cluster, workload, run.phase, healBound));
    });
    const monitor = (): void => {
      membership?.stopRemoved();
      if (run.phase === 'heal' && cluster.leader() !== undefined && workload.livenessMet()) {
        workload.stopIssuing();
        run.phase = 'drain';
        trace.add(
          '-',
          'check',
          'liveness met: a leader, and every client completed an operation since the heal',
        );
      }
      if (run.phase === 'drain' && workload.outstanding() === 0 && converged(cluster)) {
        run.phase = 'done';
        trace.add('-', 'check', 'converged: every member applied the whole log');
        return;
      }
      sched.after(MONITOR_EVERY_MS, monitor);
    };

    while (run.phase !== 'done' && sched.step()) {
      if (sched.executed > MAX_EVENTS)
        violation('liveness', `more than ${MAX_EVENTS} events: runaway simulation`);
    }

    if (options.linearizability !== false) {
      const result = checkHistory(workload.history, options.lincheckMaxSteps ?? 2_000_000);
      lincheck = result.result;
      lincheckSteps = result.steps;
      if (result.result === 'illegal') {
        violation(
          'linearizability',
          `the client history (${workload.history.length} operations) is not linearizable\n` +
            explainIllegal(result, 20).join('\n'),
          firstCulpritReturn(result),
        );
      }
    }
  } catch (e) {
    if (e instanceof SimViolation) {
      violationReport = {
        kind: e.kind,
        message: e.message,
        time: sched.now,
        ...(e.focusTime === undefined ? {} : { traceUntil: e.focusTime }),
      };
    } else {
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      violationReport = { kind: 'simulator-error', message: text, time: sched.now };
    }
  }

  let maxTerm = 0;
  for (const t of inv.leaders.keys()) if (t > maxTerm) maxTerm = t;
  const stats: SimStats = {
    simTimeMs: sched.now,
    events: sched.executed,
    nodes: nodeCount,
    serversCreated: cluster.nodes.size,
    messagesSent: net.stats.sent,
    messagesDelivered: net.stats.delivered,
    messagesDropped: net.stats.dropped,
    leaders: inv.leaders.size,
    maxTerm,
    faults: nemesis?.faults ?? 0,
    hintsGiven: hints?.hintsGiven ?? 0,
    ...counters,
    membershipChanges: membership?.changes ?? 0,
    opsOk: workload.stats.ok,
    opsUnknown: workload.stats.info,
    opsFailed: workload.stats.failed,
    opsRefused: workload.stats.refused,
    lincheck,
    lincheckSteps,
  };
  const traceOpts = { last: options.traceLines ?? 50, heartbeats: options.traceHeartbeats === true };
  return {
    seed,
    ok: violationReport === undefined,
    ...(violationReport === undefined ? {} : { violation: violationReport }),
    trace: traceUntil === undefined ? trace.recent(traceOpts) : trace.before(traceUntil, traceOpts),
    ...(options.fullTrace === true ? { fullTrace: trace.fullText() } : {}),
    stats,
    replay: replayCommand(seed, options),
    setup,
  };
}

/** Every member is up and has applied the leader's whole log, which is committed. */
function converged(cluster: Cluster): boolean {
  const leader = cluster.leader();
  const raft = leader?.raft;
  if (leader === undefined || raft === undefined) return false;
  const last = leader.lastIndex();
  if (raft.status().commit !== last) return false;
  const conf = raft.confState();
  for (const id of [...conf.voters, ...conf.learners]) {
    const node = cluster.node(id);
    if (node?.up !== true || node.sm.applied !== last) return false;
    if (node.sm.chain !== leader.sm.chain) {
      violation('convergence', `${id} and leader ${leader.id} applied up to ${last} but their states differ`);
    }
  }
  return true;
}

function livenessReport(cluster: Cluster, workload: Workload, phase: string, bound: number): string {
  const lines = [`no progress within ${bound}ms after the heal (stuck in phase "${phase}")`];
  const leader = cluster.leader();
  lines.push(leader === undefined ? 'no leader' : `leader ${leader.id} of term ${leader.term}`);
  lines.push(workload.livenessReport());
  lines.push(`${workload.outstanding()} client operations outstanding`);
  for (const node of cluster.nodes.values()) {
    const st = node.status();
    lines.push(
      st === undefined
        ? `  ${node.id}: ${node.state}`
        : `  ${node.id}: ${node.state} ${st.role} term ${st.term} leader ${st.leader || '-'} commit ${st.commit} ` +
            `applied ${node.sm.applied} last ${st.lastIndex} voters [${st.conf.voters.join(',')}] learners [${st.conf.learners.join(',')}]`,
    );
  }
  return lines.join('\n');
}
