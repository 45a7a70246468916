/**
 * Append messages sent to one follower and not yet acknowledged, as a ring buffer of
 * (last index, bytes). Invariant: indices are strictly increasing from oldest to newest;
 * 0 <= count <= capacity.
 */
export class Inflights {
  private readonly lastIndices: number[];
  private readonly sizes: number[];
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxBytes: number,
  ) {
    this.lastIndices = new Array<number>(capacity).fill(0);
    this.sizes = new Array<number>(capacity).fill(0);
  }

  /** Records a message whose last entry is `index` and whose entries weigh `bytes`. */
  add(index: number, bytes: number): void {
    const slot = (this.start + this.count) % this.capacity;
    this.lastIndices[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (acknowledged by the follower). */
  freeLE(index: number): void {
    while (this.count > 0 && this.lastIndices[this.start]! <= index) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  full(): boolean {
    return this.count >= this.capacity || this.bytes >= this.maxBytes;
  }

  size(): number {
    return this.count;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
