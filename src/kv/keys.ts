// Keys as bytes. Keys are stored as UTF-8 BLOBs so that SQLite orders them by their bytes (as
// etcd does), whatever the database's text encoding; these helpers turn key ranges into byte
// bounds for `key >= lo AND key < hi` index scans.

/** Keys order by these bytes. */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}

/**
 * The smallest byte string greater than every string starting with `prefix`, or undefined if
 * there is none (empty prefix, or all 0xff bytes): increment the last byte below 0xff and cut
 * after it, as etcd's GetPrefixRangeEnd.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i]!;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return undefined;
}

/** The smallest byte string strictly greater than `key`: key followed by a zero byte. */
export function successor(key: Buffer): Buffer {
  const next = Buffer.alloc(key.length + 1);
  key.copy(next);
  return next;
}

/** Byte bounds of a key range: `lo <= key`, and `key < hi` when hi is defined. */
export interface ByteBounds {
  readonly lo: Buffer;
  readonly hi: Buffer | undefined;
}

export interface RangeSpec {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  readonly after?: string;
}

/** Bounds of a (validated) range; undefined when the range is empty. */
export function rangeBounds(spec: RangeSpec): ByteBounds | undefined {
  let lo: Buffer;
  let hi: Buffer | undefined;
  if (spec.prefix !== undefined) {
    lo = keyBytes(spec.prefix);
    hi = prefixEnd(lo);
  } else {
    lo = keyBytes(spec.start ?? '');
    hi = spec.end === undefined ? undefined : keyBytes(spec.end);
  }
  if (spec.after !== undefined) {
    const afterNext = successor(keyBytes(spec.after));
    if (Buffer.compare(afterNext, lo) > 0) lo = afterNext;
  }
  if (hi !== undefined && Buffer.compare(lo, hi) >= 0) return undefined;
  return { lo, hi };
}

/** Whether `key` lies in the bounds. */
export function inBounds(key: Buffer, bounds: ByteBounds): boolean {
  return (
    Buffer.compare(key, bounds.lo) >= 0 && (bounds.hi === undefined || Buffer.compare(key, bounds.hi) < 0)
  );
}
