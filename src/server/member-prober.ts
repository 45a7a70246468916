import { request } from 'undici';

export interface MemberContact {
  readonly url: string;
  /** Epoch ms of the last successful ping, or undefined if never reached. */
  lastContact: number | undefined;
}

/**
 * Pings every other member's /api/ping on an interval, so each node knows which members are
 * live (for /health's minimum-nodes and /status's last contact) whatever its Raft role.
 */
export class MemberProber {
  readonly members = new Map<string, MemberContact>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  setMember(name: string, url: string): void {
    const existing = this.members.get(name);
    if (existing?.url === url) return;
    this.members.set(name, { url, lastContact: undefined });
  }

  removeMember(name: string): void {
    this.members.delete(name);
  }

  start(): void {
    this.probeAll();
    this.timer = setInterval(() => {
      this.probeAll();
    }, this.intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Whether `name` answered within `withinMs`. */
  isLive(name: string, withinMs: number, now = Date.now()): boolean {
    const contact = this.members.get(name)?.lastContact;
    return contact !== undefined && now - contact <= withinMs;
  }

  private probeAll(): void {
    for (const member of this.members.values()) {
      request(new URL('/api/ping', member.url), {
        method: 'GET',
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode === 200) member.lastContact = Date.now();
        })
        .catch(() => undefined);
    }
  }
}
