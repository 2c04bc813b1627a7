/**
 * Small typed validators for the configuration loader. Every failed check records a problem — JSON path, what
 * was found, what was expected — and validation goes on, so one run reports every mistake in a file.
 */

export interface ConfigProblem {
  /** JSON path such as `listeners[1].port` or `accounts["1234"].key`; `(top level)` for the document itself. */
  path: string;
  found: string;
  expected: string;
}

export class Problems {
  readonly list: ConfigProblem[] = [];

  add(path: string, found: string, expected: string): void {
    this.list.push({ path: path === '' ? '(top level)' : path, found, expected });
  }
}

/** A check of one JSON value: returns the accepted value, or undefined after recording a problem. */
export interface Rule<T> {
  /** What the value should be, phrased to follow "expected ". */
  readonly expected: string;
  check(value: unknown, at: string, problems: Problems): T | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON paths

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The path of a named property: `receiver.badCrc` (bracket form for names that are not identifiers). */
export function prop(at: string, key: string): string {
  if (!IDENTIFIER.test(key)) return entry(at, key);
  return at === '' ? key : `${at}.${key}`;
}

/** The path of an entry of a map keyed by data (accounts, zones, codes): always `at["key"]`. */
export function entry(at: string, key: string): string {
  return `${at}[${JSON.stringify(key)}]`;
}

export function index(at: string, i: number): string {
  return `${at}[${i}]`;
}

/** A JSON path built from segments (strings are property names, numbers array indices). */
export function pathOf(segments: ReadonlyArray<string | number>): string {
  let at = '';
  for (const s of segments) at = typeof s === 'number' ? index(at, s) : prop(at, s);
  return at;
}

// ---------------------------------------------------------------------------------------------------------------
// Describing what was found

const MAX_SHOWN = 60;

/** `"abc" (string)`, `12.5 (number)`, `null`, `an array of 2 items`, `an object`... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown =
      value.length > MAX_SHOWN
        ? `${JSON.stringify(value.slice(0, MAX_SHOWN))}... (a string of ${value.length} characters)`
        : `${JSON.stringify(value)} (string)`;
    return shown;
  }
  if (typeof value === 'number') return `${String(value)} (number)`;
  if (typeof value === 'boolean') return `${String(value)} (boolean)`;
  if (Array.isArray(value)) return value.length === 1 ? 'an array of 1 item' : `an array of ${value.length} items`;
  if (typeof value === 'object') return 'an object';
  return `a value of type ${typeof value}`;
}

/** Like describe, but never shows a string's content (keys, passwords). */
export function describeSecret(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters (not shown)`;
  return describe(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Formats a list of options: `"a"`, `"a" or "b"`, `one of "a", "b", "c"`. */
export function alternatives(options: readonly string[], quote = true): string {
  const shown = options.map((o) => (quote ? JSON.stringify(o) : o));
  if (shown.length <= 1) return shown.join('');
  if (shown.length === 2) return `${shown[0]} or ${shown[1]}`;
  return `one of ${shown.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

/** A rule from a predicate/transform: `accept` returns the value to keep, or undefined to reject it. */
export function rule<T>(expected: string, accept: (value: unknown) => T | undefined, show: (value: unknown) => string = describe): Rule<T> {
  return {
    expected,
    check(value, at, problems) {
      const out = accept(value);
      if (out === undefined) problems.add(at, show(value), expected);
      return out;
    },
  };
}

function range(min: number, max: number): string {
  return max === Infinity ? `>= ${min}` : `${min}-${max}`;
}

export function integer(min: number, max = Infinity): Rule<number> {
  return rule(`an integer ${range(min, max)}`, (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : undefined,
  );
}

/** A finite number; `exclusiveMin` makes the minimum itself invalid (`> 0`). */
export function number(min: number, exclusiveMin = false): Rule<number> {
  const expected = exclusiveMin ? `a number > ${min}` : `a number >= ${min}`;
  return rule(expected, (v) => (typeof v === 'number' && Number.isFinite(v) && (exclusiveMin ? v > min : v >= min) ? v : undefined));
}

export const boolean: Rule<boolean> = rule('true or false', (v) => (typeof v === 'boolean' ? v : undefined));

export function oneOf<const T extends string>(options: readonly T[]): Rule<T> {
  return rule(alternatives(options), (v) => (typeof v === 'string' && (options as readonly string[]).includes(v) ? (v as T) : undefined));
}

/** A string that is not empty or blank. */
export function text(expected = 'a non-empty string'): Rule<string> {
  return rule(expected, (v) => (typeof v === 'string' && v.trim() !== '' ? v : undefined));
}

/** A non-empty string whose content is never repeated in a message. */
export function secret(expected = 'a non-empty string'): Rule<string> {
  return rule(expected, (v) => (typeof v === 'string' && v !== '' ? v : undefined), describeSecret);
}

/** A host name or IP address to bind or connect to. */
export const host: Rule<string> = rule('a host name or IP address such as "0.0.0.0"', (v) =>
  typeof v === 'string' && /^[^\s/]+$/.test(v) ? v : undefined,
);

export const port: Rule<number> = integer(0, 65535);

/** An absolute http: or https: URL. */
export function httpUrl(example: string): Rule<string> {
  return rule(`an http(s) URL such as ${JSON.stringify(example)}`, (v) => {
    if (typeof v !== 'string') return undefined;
    try {
      const url = new URL(v);
      return url.protocol === 'http:' || url.protocol === 'https:' ? v : undefined;
    } catch {
      return undefined;
    }
  });
}

/** The rule, or JSON null (kept as null). */
export function nullable<T>(inner: Rule<T>): Rule<T | null> {
  return {
    expected: `${inner.expected}, or null`,
    check(value, at, problems) {
      if (value === null) return null;
      const probe = new Problems();
      const out = inner.check(value, at, probe);
      if (out === undefined) problems.add(at, probe.list[0]?.found ?? describe(value), this.expected);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Objects and maps

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

/** The keys of an object that a check accepted, with typed accessors that record problems. */
export class Fields {
  constructor(
    readonly problems: Problems,
    readonly at: string,
    readonly raw: Record<string, unknown>,
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.raw, key);
  }

  path(key: string): string {
    return prop(this.at, key);
  }

  /** The key's value when present and valid (null too, for a nullable rule); `fallback` when absent (or invalid: a problem is recorded then). */
  get<T>(key: string, check: Rule<T>, fallback: T): T {
    if (!this.has(key)) return fallback;
    const value = check.check(this.raw[key], this.path(key), this.problems);
    return value === undefined ? fallback : value;
  }

  /** The key's value, or undefined when absent or invalid. */
  optional<T>(key: string, check: Rule<T>): T | undefined {
    if (!this.has(key)) return undefined;
    return check.check(this.raw[key], this.path(key), this.problems);
  }

  /**
   * The key's value; a problem when absent or invalid. The result is only meaningful when no problem was
   * recorded, which is how the loader uses it (any problem turns into a thrown error).
   */
  required<T>(key: string, check: Rule<T>): T {
    if (!this.has(key)) {
      this.problems.add(this.path(key), 'nothing (the key is missing)', check.expected);
      return undefined as T;
    }
    return check.check(this.raw[key], this.path(key), this.problems) as T;
  }

  /** A nested structure read by `read` when the key is present; `fallback` otherwise. */
  nested<T>(key: string, read: (value: unknown, at: string) => T, fallback: T): T {
    return this.has(key) ? read(this.raw[key], this.path(key)) : fallback;
  }
}

export interface ObjectOptions {
  /** What to say when the value is not an object. */
  expected?: string;
  /** What to say about a key that is not allowed (default: the list of allowed keys). */
  unknownExpected?: string;
}

/** Checks that `value` is an object whose keys are all in `allowed`; reports each other key. */
export function objectAt(
  problems: Problems,
  at: string,
  value: unknown,
  allowed: readonly string[],
  options: ObjectOptions = {},
): Fields | undefined {
  if (!isObject(value)) {
    problems.add(at, describe(value), options.expected ?? `an object with the keys ${allowed.join(', ')}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const guess = closest(key, allowed);
    const found = guess === undefined ? 'an unknown key' : `an unknown key (did you mean "${guess}"?)`;
    problems.add(prop(at, key), found, options.unknownExpected ?? `one of the keys allowed here: ${allowed.join(', ')}`);
  }
  return new Fields(problems, at, value);
}

/** The entries of a map keyed by data (accounts, zones, users, codes); undefined (problem recorded) if not an object. */
export function mapAt(problems: Problems, at: string, value: unknown, expected: string): Array<[string, unknown]> | undefined {
  if (!isObject(value)) {
    problems.add(at, describe(value), expected);
    return undefined;
  }
  return Object.keys(value).map((key) => [key, value[key]]);
}
