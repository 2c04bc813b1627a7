/**
 * One writer per outbox directory: two processes appending to the same journal would interleave records and the
 * next start would refuse the journal as corrupt. `outbox.lock` holds the owner's pid; a lock whose process is gone
 * (a crash, a SIGKILL) is taken over, so a crashed bridge restarts without an operator.
 */
import { open, readFile, unlink } from 'node:fs/promises';
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

export interface DirLock {
  release(): Promise<void>;
}

export async function lockDir(dir: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw new OutboxLockedError(dir, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      const owner = Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
      if (attempt > 0 || (owner > 0 && (await ownerLooksAlive(owner)))) throw new OutboxLockedError(dir, owner);
      // Stale: its owner is gone. Remove it and try once more (a racing starter then gets EEXIST and stops).
      await unlink(path).catch(() => undefined);
    }
  }
  heldHere.add(path);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      await unlink(path).catch(() => undefined);
    },
  };
}
