/**
 * `dead-letters.ndjson` in the outbox directory (issue #6): one JSON object per line for every event that will not
 * be delivered without an operator (permanent API refusals, events past `maxAgeHours`, unmapped accounts and
 * cameras). Appends are group-committed and fsynced like the journal; `retryDead` removes re-queued lines by
 * rewriting the file (temporary file, fsync, rename), so a crash leaves either the old or the new file.
 *
 * Each line carries its format version (`"v": 1`; lines without one were written before versions and read as
 * such) and is validated when read back: a line that is not a letter (damage, an unknown version) is reported as
 * `unreadable-line`, counted and logged at open, and the other lines keep working (issue #15).
 */
import { chmod, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../log.js';
import type { OutgoingEvent, PartnerEvent } from '../types.js';
import { GroupCommit } from './group-commit.js';
import { FILE_MODE, makeDurableDir, syncDir } from './journal.js';

export const DEAD_LETTER_FILE = 'dead-letters.ndjson';
/** The format version written on every line. */
export const DEAD_LETTER_VERSION = 1;
const READABLE_VERSIONS: ReadonlySet<unknown> = new Set([undefined, DEAD_LETTER_VERSION]);
const REQUIRED_TEXT_FIELDS = ['id', 'account', 'reason', 'deadAt'] as const;

/** A line read back as a letter, or why it is not one. */
export function parseLetterLine(row: string): DeadLetter | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row);
  } catch {
    return 'not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  const { v, ...letter } = parsed as Record<string, unknown>;
  if (!READABLE_VERSIONS.has(v)) return `unsupported format version ${JSON.stringify(v)}`;
  const missing = REQUIRED_TEXT_FIELDS.find((key) => typeof letter[key] !== 'string');
  if (missing) return `no text field "${missing}"`;
  return letter as unknown as DeadLetter;
}

function unreadable(row: string, why: string, line: number): StoredDeadLetter {
  return { id: '', account: '', reason: 'unreadable-line', detail: `${why}: ${row.slice(0, 200)}`, deadAt: '', line };
}

export interface DeadLetter {
  /** The event id (`event_id` of the body); a re-queued letter keeps it. */
  id: string;
  account: string;
  /**
   * Why it is here: `permanent` (the API refused it), `max-age` (not delivered within `maxAgeHours`), or the
   * mapper's reason for events that were never forwarded (`unmapped-account`, `unmapped-camera`, …).
   */
  reason: string;
  /** The human-readable detail: the API's message, the last retry reason, the config key to add. */
  detail?: string;
  /** HTTP status of a permanent refusal. */
  status?: number;
  /** The API's response body of a permanent refusal. */
  response?: unknown;
  /** The configuration key that would make an unmapped event deliverable. */
  configKey?: string;
  /** ISO 8601. */
  deadAt: string;
  /** ISO 8601: when the outbox first accepted it. */
  acceptedAt?: string;
  attempts?: number;
  /** Journal sequence number of the event (absent for unmapped events, which never entered the journal). */
  seq?: number;
  /** The full event, for a re-queue; absent for unmapped events. */
  event?: OutgoingEvent;
  /** What could be built of the body of an unmapped event. */
  partial?: Partial<PartnerEvent>;
  /** Whatever the receiver stored to map an unmapped event again after the config is fixed. */
  source?: unknown;
}

/** A letter as read back, with its line number (the handle `remove` takes). */
export interface StoredDeadLetter extends DeadLetter {
  line: number;
}

type Op = { kind: 'append'; text: string } | { kind: 'remove'; lines: ReadonlySet<number> };

export class DeadLetterStore {
  private fh: FileHandle | null = null;
  private lines = 0;
  private size = 0;
  private readonly commit = new GroupCommit<Op, void>((ops) => this.apply(ops));

  private constructor(readonly path: string) {}

  /**
   * Opens (creating) the file. A last line without its newline is a torn append from a crash: it is cut so the
   * next append does not glue onto it.
   */
  static async open(dir: string, readOnly = false, logger?: Logger): Promise<DeadLetterStore> {
    const store = new DeadLetterStore(join(dir, DEAD_LETTER_FILE));
    let text: Buffer;
    let existed = true;
    try {
      text = await readFile(store.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      text = Buffer.alloc(0);
      existed = false;
    }
    const end = text.lastIndexOf(0x0a) + 1;
    const damaged: Array<{ line: number; why: string }> = [];
    for (let from = 0, i = text.indexOf(0x0a); i !== -1; from = i + 1, i = text.indexOf(0x0a, from)) {
      const why = parseLetterLine(text.toString('utf8', from, i));
      if (typeof why === 'string') damaged.push({ line: store.lines, why });
      store.lines++;
    }
    if (damaged.length > 0) {
      logger?.error(
        { file: store.path, lines: damaged.slice(0, 20) },
        `outbox: ${damaged.length} dead-letter line(s) unreadable; listed as unreadable-line, the other letters are kept`,
      );
    }
    store.size = end;
    if (!readOnly) {
      await makeDurableDir(dir);
      store.fh = await open(store.path, 'a+', FILE_MODE);
      // A file written by an earlier version may be readable by others.
      await chmod(store.path, FILE_MODE);
      // Letters are written to it on the strength of a panel's ACK: its name must survive a power loss too.
      if (!existed) await syncDir(dir);
      if (end < text.length) {
        await store.fh.truncate(end);
        await store.fh.datasync();
      }
    }
    return store;
  }

  /** Lines in the file (duplicates included: a crash between the letter and its journal record repeats it). */
  get count(): number {
    return this.lines;
  }

  /** Bytes of the file: they count against the outbox's `maxBytes` like the journal's. */
  get bytes(): number {
    return this.size;
  }

  /** Appends and fsyncs; concurrent calls share one fsync. */
  append(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return Promise.resolve();
    const text = letters.map((letter) => `${JSON.stringify({ v: DEAD_LETTER_VERSION, ...letter })}\n`).join('');
    return this.commit.submit([{ kind: 'append', text }]);
  }

  /** Every letter in file order. A line that does not parse is reported as such rather than hidden. */
  async readAll(): Promise<StoredDeadLetter[]> {
    // Appends queued before this call are in the file when it is read.
    await this.commit.idle();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const letters: StoredDeadLetter[] = [];
    const rows = text.split('\n');
    // The last element is what follows the final newline: empty, or a torn append.
    for (let line = 0; line < rows.length - 1; line++) {
      const row = rows[line]!;
      const letter = parseLetterLine(row);
      letters.push(typeof letter === 'string' ? unreadable(row, letter, line) : { ...letter, line });
    }
    return letters;
  }

  /** Removes the given lines (numbers from `readAll`; appends never renumber existing lines). */
  remove(lines: ReadonlySet<number>): Promise<void> {
    if (lines.size === 0) return Promise.resolve();
    return this.commit.submit([{ kind: 'remove', lines }]);
  }

  private async apply(ops: Op[]): Promise<void> {
    if (!this.fh) throw new Error('the dead-letter file is not open for writing');
    let pending = '';
    for (const op of ops) {
      if (op.kind === 'append') {
        pending += op.text;
        continue;
      }
      if (pending) await this.write(pending);
      pending = '';
      await this.rewriteWithout(op.lines);
    }
    if (pending) await this.write(pending);
  }

  private async write(text: string): Promise<void> {
    const fh = this.fh!;
    const data = Buffer.from(text, 'utf8');
    const size = this.size; // every change of the file goes through this store (the outbox lock keeps others out)
    try {
      await fh.appendFile(data);
      await fh.datasync();
    } catch (err) {
      // Leave no half line behind for the next append to glue onto.
      await fh.truncate(size).catch(() => undefined);
      throw err;
    }
    for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) this.lines++;
    this.size += data.length;
  }

  private async rewriteWithout(lines: ReadonlySet<number>): Promise<void> {
    const text = await readFile(this.path, 'utf8');
    const rows = text.split('\n');
    rows.pop();
    const kept = rows.filter((_, i) => !lines.has(i));
    const rewritten = kept.length > 0 ? `${kept.join('\n')}\n` : '';
    const tmp = `${this.path}.tmp`;
    const handle = await open(tmp, 'w', FILE_MODE);
    try {
      await handle.writeFile(rewritten);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
    await this.fh?.close();
    this.fh = await open(this.path, 'a+', FILE_MODE);
    this.lines = kept.length;
    this.size = Buffer.byteLength(rewritten, 'utf8');
  }

  async close(): Promise<void> {
    await this.commit.idle();
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }
}
