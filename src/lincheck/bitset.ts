// A fixed-size set of small non-negative integers (the operations linearized so far), with a
// cheap, exact string key for memoization.

/** Bits per word. 16, so that each word is exactly one UTF-16 code unit of the key. */
const WORD_BITS = 16;
/** `String.fromCharCode.apply` takes its arguments on the stack; stay well under engine limits. */
const KEY_CHUNK = 8192;

export class Bitset {
  /**
   * Invariant: every element is an integer in [0, 0xffff]. A plain array of small integers
   * (rather than a typed array) so that `String.fromCharCode.apply` can take it directly.
   */
  private readonly words: number[];
  /** Invariant (tight): every i < low is in the set, and low is not (or low === size). */
  private low = 0;
  /** Invariant (tight): no i >= high is in the set, and high - 1 is (or high === 0). */
  private high = 0;

  constructor(readonly size: number) {
    this.words = new Array<number>(Math.ceil(size / WORD_BITS)).fill(0);
  }

  has(i: number): boolean {
    return ((this.words[i >>> 4]! >>> (i & 15)) & 1) === 1;
  }

  set(i: number): void {
    this.words[i >>> 4] = this.words[i >>> 4]! | (1 << (i & 15));
    if (i >= this.high) this.high = i + 1;
    if (i === this.low) {
      while (this.low < this.size && this.has(this.low)) this.low++;
    }
  }

  clear(i: number): void {
    this.words[i >>> 4] = this.words[i >>> 4]! & ~(1 << (i & 15));
    if (i < this.low) this.low = i;
    if (i === this.high - 1) {
      while (this.high > 0 && !this.has(this.high - 1)) this.high--;
    }
  }

  /**
   * An exact encoding of the set: `low`, a colon, then the words from the one holding `low`
   * to the one holding `high - 1`, one code unit per 16 bits. Bits below `low` are all set and
   * bits from `high` on all clear, so this determines the set; and since `low` and `high` are
   * tight, equal sets give equal keys. Lone surrogates are fine in a JS string (a sequence of
   * code units, never decoded here). The key's length tracks the window between the oldest
   * unlinearized and the newest linearized operation, not the history's length, which keeps
   * long, mostly sequential histories linear rather than quadratic.
   *
   * The key may contain any code unit after the colon, so anything appended to it must not be
   * ambiguous; prefix it instead (callers put a delimited state id in front).
   */
  key(): string {
    const prefix = `${this.low}:`;
    if (this.high <= this.low) return prefix;
    const from = this.low >>> 4;
    const to = ((this.high - 1) >>> 4) + 1;
    if (to - from <= KEY_CHUNK) return prefix + String.fromCharCode.apply(null, this.words.slice(from, to));
    let out = prefix;
    for (let i = from; i < to; i += KEY_CHUNK) {
      out += String.fromCharCode.apply(null, this.words.slice(i, Math.min(i + KEY_CHUNK, to)));
    }
    return out;
  }
}
