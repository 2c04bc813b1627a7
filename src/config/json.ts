/**
 * A strict JSON reader for configuration files. Unlike `JSON.parse` it reports syntax errors with a line and
 * column on every Node version, explains the usual slips (comments, trailing commas, single quotes), and lists
 * keys that appear twice in one object (which `JSON.parse` would silently resolve to the last one).
 */

/** A JSON syntax error at a 1-based line and column. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

/** A key repeated inside one object: `path` leads to the object, `key` is the repeated key. */
export interface DuplicateKey {
  path: ReadonlyArray<string | number>;
  key: string;
  line: number;
  column: number;
}

export interface ParsedJson {
  value: unknown;
  duplicates: DuplicateKey[];
}

const MAX_DEPTH = 256;

/** Objects come back with a null prototype, so a `__proto__` key is an ordinary key. */
export function parseJsonText(text: string): ParsedJson {
  return new Reader(text).document();
}

class Reader {
  private pos = 0;
  private readonly path: Array<string | number> = [];
  readonly duplicates: DuplicateKey[] = [];

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  document(): ParsedJson {
    this.skipSpace();
    if (this.pos >= this.text.length) this.fail('the file is empty (expected a JSON object)');
    const value = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the end of the JSON value`);
    return { value, duplicates: this.duplicates };
  }

  private value(): unknown {
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        this.fail(`expected a value, found ${this.describeHere()}${this.hint()}`);
    }
  }

  private enter(): void {
    if (this.path.length >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  }

  private object(): Record<string, unknown> {
    this.enter();
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') {
        const trailing = this.text[this.pos] === '}' ? ' (JSON allows no comma after the last property)' : '';
        this.fail(`expected a property name in double quotes, found ${this.describeHere()}${trailing || this.hint()}`);
      }
      const keyAt = this.pos;
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        const { line, column } = this.lineColumn(keyAt);
        this.duplicates.push({ path: [...this.path], key, line, column });
      }
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after the property name, found ${this.describeHere()}`);
      this.pos++;
      this.skipSpace();
      this.path.push(key);
      out[key] = this.value();
      this.path.pop();
      if (this.separator('}', 'a property value')) return out;
    }
  }

  private array(): unknown[] {
    this.enter();
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') this.fail("expected a value, found ']' (JSON allows no comma after the last item)");
      this.path.push(out.length);
      out.push(this.value());
      this.path.pop();
      if (this.separator(']', 'an array item')) return out;
    }
  }

  /** Consumes what follows a member: true for the closing bracket, false for a comma; anything else fails. */
  private separator(close: '}' | ']', after: string): boolean {
    this.skipSpace();
    const next = this.text[this.pos];
    if (next === ',' || next === close) {
      this.pos++;
      return next === close;
    }
    this.fail(`expected ',' or '${close}' after ${after}, found ${this.describeHere()}${this.hint()}`);
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) {
        this.pos = start;
        this.fail('a string is not closed (missing ")');
      }
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (code < 0x20) this.fail('a control character (such as a line break) inside a string; write it as an escape like \\n');
      if (code === 0x5c) {
        out += this.text.slice(runStart, this.pos);
        out += this.escape();
        runStart = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  private escape(): string {
    const c = this.text[this.pos + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (c !== undefined && Object.prototype.hasOwnProperty.call(simple, c)) {
      this.pos += 2;
      return simple[c] as string;
    }
    if (c === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
        this.pos += 6;
        return String.fromCharCode(parseInt(hex, 16));
      }
      this.fail('\\u must be followed by four hex digits');
    }
    this.fail(`invalid escape \\${c ?? ''} in a string (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
  }

  private number(): number {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (match === null) this.fail(`invalid number, found ${this.describeHere()}`);
    const after = this.text[this.pos + match[0].length];
    if (after !== undefined && /[0-9A-Za-z.+-]/.test(after)) {
      this.fail(`invalid number ${JSON.stringify(this.text.slice(this.pos, this.pos + match[0].length + 1))}...`);
    }
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    this.fail(`expected a value, found ${this.describeHere()}${this.hint()}`);
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else return;
    }
  }

  /** What stands at the current position, for "found ..." in a message. */
  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the file';
    const word = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.pos, this.pos + 40));
    if (word) return JSON.stringify(word[0]);
    return `'${this.text[this.pos]}'`;
  }

  /** An explanation of the usual non-JSON habits (JavaScript or JSON5 syntax) seen at the current position. */
  private hint(): string {
    const rest = this.text.slice(this.pos, this.pos + 2);
    if (rest === '//' || rest === '/*') return ' (JSON has no comments)';
    if (rest.startsWith("'")) return ' (JSON strings use double quotes)';
    if (/^[A-Za-z_$]/.test(rest)) return ' (property names and strings need double quotes)';
    return '';
  }

  private lineColumn(offset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = this.text.charCodeAt(0) === 0xfeff ? 1 : 0;
    for (let i = lineStart; i < offset; i++) {
      if (this.text.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: offset - lineStart + 1 };
  }

  private fail(reason: string): never {
    const { line, column } = this.lineColumn(Math.min(this.pos, this.text.length));
    throw new JsonSyntaxError(reason, line, column);
  }
}
