// CPU time used by processes over a window, so a benchmark can say where the machine's cores
// went (which matters on a small machine, where the systems compared and the load generator
// share the same cores). Linux only: elsewhere the figures are absent, never made up.
import { readFileSync } from 'node:fs';

/** /proc reports utime and stime in USER_HZ ticks, 100 per second on every Linux port. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, every thread) used so far by process `pid`; undefined if unknown. */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, so 11 and 12 after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / TICKS_PER_SECOND;
}

/** CPU seconds used by groups of processes between start() and stop(). */
export class CpuWindow<G extends string> {
  private readonly started = new Map<number, number>();
  private readonly used = new Map<G, number>();
  private startedAt = 0;
  private elapsed = 0;
  private complete = true;

  /** `groups` is asked at start and at stop, so processes must not change between the two. */
  constructor(private readonly groups: () => ReadonlyMap<G, readonly number[]>) {}

  start(): void {
    this.started.clear();
    this.complete = true;
    for (const pids of this.groups().values()) {
      for (const pid of pids) {
        const s = processCpuSeconds(pid);
        if (s === undefined) this.complete = false;
        else this.started.set(pid, s);
      }
    }
    this.startedAt = performance.now();
  }

  stop(): void {
    this.elapsed = (performance.now() - this.startedAt) / 1000;
    this.used.clear();
    for (const [group, pids] of this.groups()) {
      let total = 0;
      for (const pid of pids) {
        const before = this.started.get(pid);
        const after = processCpuSeconds(pid);
        if (before === undefined || after === undefined) this.complete = false;
        else total += after - before;
      }
      this.used.set(group, total);
    }
  }

  /** CPU seconds the group used in the window; undefined if any of its processes was unreadable. */
  seconds(group: G): number | undefined {
    return this.complete ? this.used.get(group) : undefined;
  }

  /** The window's wall-clock length in seconds. */
  wallSeconds(): number {
    return this.elapsed;
  }
}
