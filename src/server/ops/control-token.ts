/**
 * The control token of a running bridge: a random secret published next to its outbox (`control.token`, mode 0600,
 * owned by the bridge's user) once its status server listens, which `alarm-bridge outbox retry|discard` reads and
 * sends with its request. Only the bridge's user (or root) can change the outbox through the status server; a
 * browser page, another local user or a host that only reaches the port cannot, and a command aimed at another
 * bridge's port is refused instead of acting on the wrong outbox.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CONTROL_TOKEN_FILE = 'control.token';

/** A fresh secret (256 bits, base64url). */
export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface PublishedToken {
  readonly path: string;
  /** Removes the file while it still holds this token (a newer bridge's token stays). */
  revoke(): Promise<void>;
}

/**
 * Writes `token` into `dir` atomically (a reader never sees half a token): a new file under an unguessable name,
 * created owner-only, then renamed over any earlier one.
 */
export async function publishControlToken(dir: string, token: string): Promise<PublishedToken> {
  const path = join(dir, CONTROL_TOKEN_FILE);
  const partial = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  await writeFile(partial, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await rename(partial, path);
  } catch (err) {
    await unlink(partial).catch(() => undefined);
    throw err;
  }
  return {
    path,
    async revoke() {
      if ((await readControlToken(dir).catch(() => null)) === token) await unlink(path).catch(() => undefined);
    },
  };
}

/** Removes a token left by an earlier bridge that did not stop cleanly (the lock holder publishes none). */
export async function clearControlToken(dir: string): Promise<void> {
  await unlink(join(dir, CONTROL_TOKEN_FILE)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** The token a running bridge published in `dir`, or null when there is none. */
export async function readControlToken(dir: string): Promise<string | null> {
  try {
    const text = (await readFile(join(dir, CONTROL_TOKEN_FILE), 'utf8')).trim();
    return text === '' ? null : text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The token of an `authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}
