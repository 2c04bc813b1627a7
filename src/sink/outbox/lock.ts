/**
 * One writer per outbox directory: two processes appending to the same journal would interleave records and the
 * next start would refuse the journal as corrupt. `outbox.lock` holds the owner's pid; a lock whose process is gone
 * (a crash, a SIGKILL) is taken over, so a crashed bridge restarts without an operator.
 *
 * The lock file appears with its pid already in it (written to a private file, then hard-linked into place, which
 * fails when the name exists), so nobody ever reads an empty lock. Removing a stale lock by name is only safe when
 * nobody else can do it at the same time (else one starter removes the lock another has just taken): it happens
 * under a short-lived guard (`outbox.lock.takeover`, taken the same way), re-checking the owner first. A guard left
 * by a process that died inside that window (milliseconds) is removed once it is older than GUARD_STALE_MS.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { OutboxLockedError } from './errors.js';

export const LOCK_FILE = 'outbox.lock';

/** Directories this process holds, so that a second open in the same process is refused too. */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A recorded pid can be reused by an unrelated process after a crash (in a container the bridge is often pid 1
 * every time). Where /proc tells, only a node process counts as the owner.
 */
async function ownerLooksAlive(pid: number): Promise<boolean> {
  if (pid === process.pid) return false;
  if (!alive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1');
    return /node|alarm-bridge/i.test(cmdline);
  } catch {
    return true;
  }
}

const readOwner = async (path: string): Promise<number | null> => {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return null;
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
};

/** Filesystems without hard links (SMB, some FUSE mounts, vfat) answer `link()` with one of these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Puts a file holding our pid at `path` unless one is there: true when this process now holds it. A hard link of
 * `source` makes it appear complete; without hard links it is created exclusively and then written.
 */
async function linkInto(source: string, path: string): Promise<boolean> {
  try {
    await link(source, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
  }
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** A takeover guard older than this was left by a process that died while holding it. */
const GUARD_STALE_MS = 10_000;

/**
 * Under the takeover guard, removes the lock at `path` if its owner is (still) gone. Returns without doing anything
 * when another process holds the guard; the caller then looks at the lock again.
 */
async function removeStaleLock(path: string, mine: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await linkInto(mine, guard))) {
    // mtime is when the holder wrote its pid file, at most a few seconds before it took the guard.
    const since = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (since > GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    await delay(5 + Math.random() * 20);
    return;
  }
  try {
    const owner = await readOwner(path);
    if (owner !== null && !(owner > 0 && (await ownerLooksAlive(owner)))) {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** Rounds of looking at a stale lock while other starters hold the takeover guard. */
const MAX_ATTEMPTS = 100;

export interface DirLock {
  release(): Promise<void>;
}

export async function lockDir(dir: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw new OutboxLockedError(dir, process.pid);
  // A live owner is refused before anything is written (a user who may only read the directory learns who holds it).
  const current = await readOwner(path);
  if (current !== null && current > 0 && (await ownerLooksAlive(current))) throw new OutboxLockedError(dir, current);
  const mine = `${path}.${randomBytes(6).toString('hex')}.new`;
  await writeFile(mine, `${process.pid}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      if (await linkInto(mine, path)) break;
      const owner = await readOwner(path);
      if (owner === null) continue; // removed meanwhile: try again
      if ((owner > 0 && (await ownerLooksAlive(owner))) || attempt >= MAX_ATTEMPTS) throw new OutboxLockedError(dir, owner);
      await removeStaleLock(path, mine);
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  heldHere.add(path);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      if ((await readOwner(path).catch(() => null)) === process.pid) await unlink(path).catch(() => undefined);
    },
  };
}
