/**
 * The dead-letter file on real files (issues #6, #15): a format version per line, validated when read back; damaged
 * lines are reported and the others keep working; the file is private to the bridge's user.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_FILE, DEAD_LETTER_VERSION, DeadLetterStore, parseLetterLine } from '../../../src/sink/outbox/dead-letters.js';
import { capturingLogger, makeEvent, tempDir } from './helpers.js';

const letter = (id: string) => ({
  id,
  account: '1234',
  reason: 'permanent',
  detail: 'HTTP 400',
  deadAt: '2026-01-15T10:00:00.000Z',
  event: makeEvent('1234', 1),
});

describe('DeadLetterStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('dead-letters-'));
  });
  afterEach(async () => cleanup());

  it('writes the format version on every line, 0600, and reads the letters back without it', async () => {
    const store = await DeadLetterStore.open(dir);
    await store.append([letter('a'), letter('b')]);
    const lines = (await readFile(join(dir, DEAD_LETTER_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.v, l.id])).toEqual([
      [DEAD_LETTER_VERSION, 'a'],
      [DEAD_LETTER_VERSION, 'b'],
    ]);
    expect(await store.readAll()).toEqual([
      { ...letter('a'), line: 0 },
      { ...letter('b'), line: 1 },
    ]);
    expect((await stat(join(dir, DEAD_LETTER_FILE))).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('keeps every readable letter of a damaged file: garbage, unknown versions and lines without the fields are unreadable-line', async () => {
    const path = join(dir, DEAD_LETTER_FILE);
    const legacy = JSON.stringify(letter('legacy'));
    await writeFile(path, `${legacy}\n`);
    await chmod(path, 0o644);
    await appendFile(path, Buffer.concat([randomBytes(300).map((b) => (b === 0x0a ? 0x20 : b)), Buffer.from('\n')]));
    await appendFile(path, `${JSON.stringify({ v: 99, ...letter('future') })}\n${JSON.stringify({ v: 1, id: 'x' })}\n[1,2]\n`);
    const { logger, lines } = capturingLogger();
    const store = await DeadLetterStore.open(dir, false, logger);
    expect(lines.find((l) => String(l.msg).includes('dead-letter line(s) unreadable'))).toMatchObject({
      level: 50,
      msg: expect.stringContaining('4 dead-letter line(s)'),
    });
    await store.append([letter('new')]);
    const all = await store.readAll();
    expect(all.map((l) => [l.line, l.id, l.reason])).toEqual([
      [0, 'legacy', 'permanent'],
      [1, '', 'unreadable-line'],
      [2, '', 'unreadable-line'],
      [3, '', 'unreadable-line'],
      [4, '', 'unreadable-line'],
      [5, 'new', 'permanent'],
    ]);
    expect(all[2]!.detail).toMatch(/^unsupported format version 99/);
    expect(all[3]!.detail).toMatch(/^no text field "account"/);
    // Made private when opened for writing (a file from an earlier version may be 0644).
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('parseLetterLine says why a line is not a letter', () => {
    expect(parseLetterLine('{')).toBe('not JSON');
    expect(parseLetterLine('"x"')).toBe('not a JSON object');
    expect(parseLetterLine(JSON.stringify({ v: 1, ...letter('a') }))).toEqual(letter('a'));
  });
});
