import type { Logger } from 'pino';
import type { ApplyResult, Command, KvStore } from '../../kv/index.js';
import type { ConfChange, NodeId, RaftStatus } from '../../raft/index.js';
import { ServerError } from '../errors.js';

/**
 * Where a primary added at runtime can be reached, and whether it should become a voter:
 * replicated as the value of `PEER_KEY_PREFIX + name`, written before its conf change, so every
 * node (and every node restarted later, whatever its initial-cluster) can reach it.
 */
export const PEER_KEY_PREFIX = '_conclave/peers/';

interface PeerRecord {
  readonly url: string;
  /** Promote to voter once caught up (false: stays a learner). */
  readonly promote: boolean;
}

export interface MembershipDeps {
  readonly self: NodeId;
  readonly kv: KvStore;
  /** URLs from initial-cluster (the founding members). */
  readonly configUrls: ReadonlyMap<NodeId, string>;
  status(): RaftStatus;
  propose(command: Command): Promise<ApplyResult>;
  proposeConfChange(change: ConfChange): Promise<unknown>;
  /** Whether a peer answered recently (the leader's own progress view is used first). */
  isLive(name: NodeId): boolean;
  /** A peer's membership and how far it has applied (GET /v1/cluster/members). */
  fetchMembers(url: string): Promise<{ appliedIndex: number; members: readonly { name: string }[] }>;
  /** The set of peers to talk to changed: (name, url) for each member but this node. */
  onPeers(peers: ReadonlyMap<NodeId, string>): void;
  readonly logger: Logger;
}

/** A learner within this many entries of the leader's commit index counts as caught up. */
const CAUGHT_UP_LAG = 64;
const PROMOTE_EVERY_MS = 250;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface MemberView {
  readonly name: NodeId;
  readonly url: string | null;
  readonly role: 'voter' | 'learner';
}

/**
 * Runtime membership of the primaries, one change at a time (the Raft core refuses a second
 * while one is pending): add (as a learner that the leader promotes once caught up), promote,
 * remove (the leader too: it hands over once its removal applies). A change that would leave the
 * voters without a live quorum is refused before it is proposed.
 */
export class Membership {
  private peers = new Map<NodeId, string>();
  private removed = false;
  private everMember = false;
  private timer: NodeJS.Timeout | undefined;
  private promoting = false;

  constructor(private readonly deps: MembershipDeps) {}

  start(): void {
    this.reconcile();
    this.timer = setInterval(() => {
      void this.promoteCaughtUpLearners();
      void this.checkRemovedWhileCutOff();
    }, PROMOTE_EVERY_MS);
    this.timer.unref();
  }

  private askingPeers = false;
  private lastAsked = 0;

  /**
   * A removed follower may never apply its own removal: once the leader applies it, the leader
   * stops sending to it, so the commit index that covers the removal may never arrive. A member
   * cut off from any leader for two election timeouts therefore asks its peers for their
   * membership; a peer that has applied at least as much as this node and does not list it
   * proves the removal committed.
   */
  private async checkRemovedWhileCutOff(): Promise<void> {
    const status = this.deps.status();
    const now = Date.now();
    if (this.removed || !this.everMember || this.askingPeers || now - this.lastAsked < 1_000) return;
    if (status.role === 'leader' || status.ticksSinceLeaderContact < 2 * status.electionTicks) return;
    this.askingPeers = true;
    this.lastAsked = now;
    try {
      for (const [name, url] of this.peers) {
        const view = await this.deps.fetchMembers(url).catch(() => undefined);
        if (view === undefined || view.appliedIndex < status.applied) continue;
        if (view.members.some((m) => m.name === this.deps.self)) continue;
        this.removed = true;
        this.deps.logger.warn(
          { toldBy: name },
          'this node was removed from the cluster; it keeps running so that the others can finish the change: stop it when /status shows it gone',
        );
        return;
      }
    } finally {
      this.askingPeers = false;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Whether this node was removed from the cluster (it then only waits to be stopped). */
  get isRemoved(): boolean {
    return this.removed;
  }

  urlOf(name: NodeId): string | undefined {
    return this.record(name)?.url ?? this.deps.configUrls.get(name);
  }

  members(): MemberView[] {
    const conf = this.deps.status().conf;
    return [
      ...conf.voters.map((name) => ({ name, url: this.urlOf(name) ?? null, role: 'voter' as const })),
      ...conf.learners.map((name) => ({ name, url: this.urlOf(name) ?? null, role: 'learner' as const })),
    ];
  }

  /** Call after every apply: follows membership changes into the transport. */
  reconcile(): void {
    const conf = this.deps.status().conf;
    const members = [...conf.voters, ...conf.learners];
    const next = new Map<NodeId, string>();
    for (const name of members) {
      if (name === this.deps.self) continue;
      const url = this.urlOf(name);
      if (url !== undefined) next.set(name, url);
    }
    if (!sameMap(next, this.peers)) {
      this.peers = next;
      this.deps.onPeers(next);
    }
    const isMember = members.includes(this.deps.self);
    // A node that joins has no membership until it hears it: only one that was a member can be removed.
    if (isMember) this.everMember = true;
    else if (this.everMember && !this.removed) {
      this.removed = true;
      this.deps.logger.warn(
        'this node was removed from the cluster; it keeps running so that the others can finish the change: stop it when /status shows it gone',
      );
    }
  }

  /** Adds a primary as a learner; the leader promotes it to voter once caught up unless `learner`. */
  async add(name: NodeId, url: string, learner: boolean): Promise<MemberView> {
    if (!NAME.test(name)) {
      throw new ServerError(
        'INVALID_ARGUMENT',
        'a member name is 1-63 letters, digits, dots, dashes or underscores',
      );
    }
    checkUrl(url);
    const conf = this.deps.status().conf;
    if (conf.voters.includes(name) || conf.learners.includes(name)) {
      throw new ServerError('MEMBER_EXISTS', `"${name}" is a member already`);
    }
    const record: PeerRecord = { url, promote: !learner };
    await this.proposeOrThrow({ type: 'put', key: PEER_KEY_PREFIX + name, value: JSON.stringify(record) });
    await this.deps.proposeConfChange({ type: 'addLearner', nodeId: name });
    this.deps.logger.info({ member: name, url, promote: !learner }, 'added a primary as a learner');
    return { name, url, role: 'learner' };
  }

  /** Promotes a caught-up learner to voter now. */
  async promote(name: NodeId): Promise<MemberView> {
    const status = this.deps.status();
    if (!status.conf.learners.includes(name)) {
      if (status.conf.voters.includes(name))
        throw new ServerError('INVALID_CONF_CHANGE', `"${name}" is a voter already`);
      throw new ServerError('MEMBER_NOT_FOUND', `"${name}" is not a member`);
    }
    const match = status.progress.get(name)?.match ?? 0;
    if (match + CAUGHT_UP_LAG < status.commit) {
      throw new ServerError(
        'INVALID_CONF_CHANGE',
        `"${name}" is ${status.commit - match} entries behind; it is promoted when it has caught up`,
      );
    }
    this.checkQuorumAfter([...status.conf.voters, name]);
    await this.deps.proposeConfChange({ type: 'addVoter', nodeId: name });
    this.deps.logger.info({ member: name }, 'promoted a learner to voter');
    return { name, url: this.urlOf(name) ?? null, role: 'voter' };
  }

  /** Removes a member (refused when the remaining voters would have no live quorum). */
  async remove(name: NodeId): Promise<void> {
    const status = this.deps.status();
    const isVoter = status.conf.voters.includes(name);
    if (!isVoter && !status.conf.learners.includes(name)) {
      throw new ServerError('MEMBER_NOT_FOUND', `"${name}" is not a member`);
    }
    if (isVoter) {
      const remaining = status.conf.voters.filter((v) => v !== name);
      if (remaining.length === 0)
        throw new ServerError('INVALID_CONF_CHANGE', 'the last voter cannot be removed');
      this.checkQuorumAfter(remaining);
    }
    // Keep the learner from being promoted while it goes.
    const record = this.record(name);
    if (record?.promote === true) {
      await this.proposeOrThrow({
        type: 'put',
        key: PEER_KEY_PREFIX + name,
        value: JSON.stringify({ url: record.url, promote: false }),
      });
    }
    await this.deps.proposeConfChange({ type: 'removeNode', nodeId: name });
    this.deps.logger.info({ member: name }, 'removed a primary');
  }

  private checkQuorumAfter(voters: readonly NodeId[]): void {
    const live = voters.filter((v) => v === this.deps.self || this.isLive(v)).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    if (live < quorum) {
      throw new ServerError(
        'NO_QUORUM',
        `after this change ${live} of the ${voters.length} voters would be live; a quorum needs ${quorum}`,
        { voters, live, quorum },
      );
    }
  }

  /** The leader's progress says whether a peer answered within the last election timeout. */
  private isLive(name: NodeId): boolean {
    const progress = this.deps.status().progress.get(name);
    return progress === undefined ? this.deps.isLive(name) : progress.recentActive;
  }

  private async promoteCaughtUpLearners(): Promise<void> {
    const status = this.deps.status();
    if (this.promoting || status.role !== 'leader' || status.conf.learners.length === 0) return;
    this.promoting = true;
    try {
      for (const name of status.conf.learners) {
        if (this.record(name)?.promote !== true) continue;
        const match = status.progress.get(name)?.match ?? 0;
        if (match + CAUGHT_UP_LAG < status.commit) continue;
        try {
          await this.promote(name);
        } catch (error) {
          this.deps.logger.debug({ member: name, err: (error as Error).message }, 'promotion postponed');
        }
        return; // one change at a time
      }
    } finally {
      this.promoting = false;
    }
  }

  private record(name: NodeId): PeerRecord | undefined {
    const kv = this.deps.kv.get(PEER_KEY_PREFIX + name).kv;
    if (kv === undefined) return undefined;
    try {
      const parsed = JSON.parse(kv.value) as Partial<PeerRecord>;
      return typeof parsed.url === 'string'
        ? { url: parsed.url, promote: parsed.promote === true }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private async proposeOrThrow(command: Command): Promise<void> {
    const result = await this.deps.propose(command);
    if ('error' in result) throw new ServerError('INTERNAL', result.error.message);
  }
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ServerError('INVALID_ARGUMENT', `"${url}" is not a URL`);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.pathname !== '/') {
    throw new ServerError('INVALID_ARGUMENT', 'a member URL is http(s)://host:port with no path');
  }
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
