/** The outbox directory lock (issue #6): one writer, a crashed owner's lock taken over by exactly one starter. */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxLockedError } from '../../../src/sink/outbox/errors.js';
import { LOCK_FILE, lockDir } from '../../../src/sink/outbox/lock.js';

const LOCK_MODULE = new URL('../../../dist/src/sink/outbox/lock.js', import.meta.url).href;
/** Above Linux's pid_max ceiling: no process has it. */
const DEAD_PID = 2 ** 22 + 1;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-lock-'));
  dirs.push(dir);
  return dir;
};

/** A process that tries to take the lock once the start file appears, prints won/lost, and holds it for a while. */
function contender(dir: string, start: string): Promise<string> {
  const script = `
    import { existsSync } from 'node:fs';
    const { lockDir } = await import(${JSON.stringify(LOCK_MODULE)});
    const deadline = Date.now() + 15_000; // never outlive an aborted test
    while (!existsSync(${JSON.stringify(start)})) { if (Date.now() > deadline) process.exit(1); await new Promise((r) => setTimeout(r, 1)); }
    try { await lockDir(${JSON.stringify(dir)}); console.log('won'); } catch (err) { console.log(err.name === 'OutboxLockedError' ? 'lost' : 'error ' + err.message); }
    setTimeout(() => process.exit(0), 2000); // the winner holds the lock while the others try
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', () => resolve(out.trim()));
  });
}

describe('lockDir', () => {
  it('writes its pid into the lock, refuses a second holder, and removes only its own lock', async () => {
    const dir = await tempDir();
    const lock = await lockDir(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockDir(dir)).rejects.toBeInstanceOf(OutboxLockedError);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    // A lock another process wrote after ours was released is not ours to remove.
    const again = await lockDir(dir);
    await writeFile(join(dir, LOCK_FILE), `${DEAD_PID}\n`);
    await again.release();
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${DEAD_PID}\n`);
  });

  it('takes over the lock of a process that is gone, and a lock without a readable pid', async () => {
    const dir = await tempDir();
    for (const stale of [`${DEAD_PID}\n`, '', 'garbage']) {
      await writeFile(join(dir, LOCK_FILE), stale);
      const lock = await lockDir(dir);
      expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
      await lock.release();
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes a takeover guard left by a process that died inside it, once the guard is old', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), `${DEAD_PID}\n`);
    const guard = join(dir, `${LOCK_FILE}.takeover`);
    await writeFile(guard, `${DEAD_PID}\n`);
    const old = new Date(Date.now() - 60_000);
    await utimes(guard, old, old);
    const lock = await lockDir(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('lets exactly one of several processes racing for the same stale lock take it over', async () => {
    const rounds: string[][] = [];
    for (let round = 0; round < 4; round++) {
      const dir = await tempDir();
      await writeFile(join(dir, LOCK_FILE), `${DEAD_PID}\n`);
      const start = join(dir, 'start');
      const results = Promise.all([1, 2, 3, 4].map(() => contender(dir, start)));
      await new Promise((r) => setTimeout(r, 400)); // all four are waiting for the start file
      await writeFile(start, '');
      const outcomes = (await results).sort();
      rounds.push(outcomes);
      expect((await readdir(dir)).filter((name) => name.startsWith(`${LOCK_FILE}.`))).toEqual([]);
    }
    console.log(`lock race: ${rounds.map((r) => r.filter((o) => o === 'won').length).join(', ')} winner(s) per round of 4`);
    for (const outcomes of rounds) expect(outcomes).toEqual(['lost', 'lost', 'lost', 'won']);
  }, 30_000);
});
