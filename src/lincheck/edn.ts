// A small reader for the subset of EDN that Jepsen histories use: maps, vectors, lists,
// keywords, symbols, strings, integers, floats, nil and booleans. Sets, tagged literals and
// character literals are rejected with a clear message rather than misread.

export class EdnKeyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

export class EdnMap {
  constructor(readonly entries: readonly (readonly [EdnValue, EdnValue])[]) {}

  /** The value stored under the keyword `:name`, or undefined when there is none. */
  get(name: string): EdnValue | undefined {
    for (const [k, v] of this.entries) {
      if (k instanceof EdnKeyword && k.name === name) return v;
    }
    return undefined;
  }
}

export type EdnValue =
  null | boolean | number | string | EdnKeyword | EdnSymbol | EdnMap | readonly EdnValue[];

/** `column` is the 1-based position in the text where reading failed. */
export class EdnSyntaxError extends Error {
  override readonly name = 'EdnSyntaxError';
  constructor(
    readonly reason: string,
    readonly column: number,
  ) {
    super(`${reason} at column ${column}`);
  }
}

const CLOSERS: Readonly<Record<string, string>> = { '{': '}', '[': ']', '(': ')' };
const INTEGER = /^[+-]?\d+N?$/;
const FLOAT = /^[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?M?$/;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
};

const isWhitespace = (c: string): boolean => c === ' ' || c === ',' || c === '\t' || c === '\n' || c === '\r';
const isDelimiter = (c: string): boolean => isWhitespace(c) || '{}[]()";'.includes(c);

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(reason: string, at = this.pos): never {
    throw new EdnSyntaxError(reason, at + 1);
  }

  /** Skips whitespace (commas included) and `;` comments. */
  skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (isWhitespace(c)) this.pos++;
      else if (c === ';') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  atEnd(): boolean {
    this.skip();
    return this.pos >= this.text.length;
  }

  form(): EdnValue {
    this.skip();
    const t = this.text;
    const start = this.pos;
    const c = t[start];
    if (c === undefined) return this.fail('unexpected end of input');
    if (c === '{' || c === '[' || c === '(') {
      this.pos++;
      const items = this.until(CLOSERS[c]!, start);
      if (c !== '{') return items;
      if (items.length % 2 !== 0) this.fail('map literal must contain an even number of forms', start);
      const entries: (readonly [EdnValue, EdnValue])[] = [];
      for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
      return new EdnMap(entries);
    }
    if (c === '}' || c === ']' || c === ')') return this.fail(`unexpected '${c}'`);
    if (c === '"') return this.string();
    if (c === '#') return this.fail('sets and tagged literals (#) are not supported');
    if (c === '\\') return this.fail('character literals are not supported');
    while (this.pos < t.length && !isDelimiter(t[this.pos]!)) this.pos++;
    return this.token(t.slice(start, this.pos), start);
  }

  until(closer: string, start: number): EdnValue[] {
    const items: EdnValue[] = [];
    for (;;) {
      this.skip();
      if (this.pos >= this.text.length) return this.fail(`unclosed '${this.text[start]!}'`, start);
      if (this.text[this.pos] === closer) {
        this.pos++;
        return items;
      }
      items.push(this.form());
    }
  }

  string(): string {
    const t = this.text;
    const start = this.pos;
    let out = '';
    this.pos++;
    for (;;) {
      const c = t[this.pos];
      if (c === undefined) return this.fail('unterminated string', start);
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = t[this.pos];
      this.pos++;
      if (e === 'u') {
        const hex = t.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape in string', this.pos - 2);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
      } else {
        this.fail(`bad escape '\\${e ?? ''}' in string`, this.pos - 2);
      }
    }
  }

  token(tok: string, start: number): EdnValue {
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (tok.startsWith(':')) {
      if (tok.length === 1) this.fail('empty keyword', start);
      return new EdnKeyword(tok.slice(1));
    }
    if (INTEGER.test(tok)) {
      const n = Number(tok.replace(/N$/, ''));
      if (!Number.isSafeInteger(n)) this.fail(`integer ${tok} is out of range`, start);
      return n;
    }
    if (FLOAT.test(tok)) return Number(tok.replace(/M$/, ''));
    if (/^[+-]?\d/.test(tok)) this.fail(`malformed number '${tok}'`, start);
    return new EdnSymbol(tok);
  }
}

/** Reads exactly one EDN form from `text` (surrounding whitespace allowed). */
export function readEdn(text: string): EdnValue {
  const reader = new Reader(text);
  const value = reader.form();
  if (!reader.atEnd()) reader.fail('unexpected text after the value');
  return value;
}

/** `Array.isArray` does not narrow readonly arrays; this does. */
export function isEdnVector(value: EdnValue | undefined): value is readonly EdnValue[] {
  return Array.isArray(value);
}
