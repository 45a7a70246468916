// Discrete-event scheduler: a binary min-heap of callbacks ordered by (time, insertion order).
// Simulated time only moves when an event is taken; ties run in the order they were scheduled,
// which keeps runs deterministic.

interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class Scheduler {
  /** Simulated time in milliseconds. Never decreases. */
  now = 0;
  /** Events taken so far. */
  executed = 0;
  private seq = 0;
  private readonly heap: SimEvent[] = [];

  /** Runs `run` at now + delay (delay >= 0). */
  after(delay: number, run: () => void): void {
    this.at(this.now + Math.max(0, delay), run);
  }

  at(time: number, run: () => void): void {
    const heap = this.heap;
    const ev: SimEvent = { time: Math.max(time, this.now), seq: this.seq++, run };
    let i = heap.length;
    heap.push(ev);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(ev, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = ev;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Takes the earliest event, advances the clock to it and runs it. False when none is left. */
  step(): boolean {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return false;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && before(heap[r]!, heap[l]!)) c = r;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    this.now = top.time;
    this.executed++;
    top.run();
    return true;
  }
}
