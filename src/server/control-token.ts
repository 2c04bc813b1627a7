/**
 * The control token of a running bridge: a random secret written next to its outbox (`control.token`, mode 0600)
 * when it starts, which `alarm-bridge outbox retry|discard` reads and sends with its request. Only someone who can
 * read the outbox directory (who could read every journaled event anyway) can change the outbox through the status
 * server; a browser page or a host that only reaches the port cannot, and a command aimed at another bridge's port
 * is refused instead of acting on the wrong outbox.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CONTROL_TOKEN_FILE = 'control.token';

export interface ControlToken {
  readonly token: string;
  readonly path: string;
  /** Removes the file (when it still holds this token): the bridge is stopping. */
  revoke(): Promise<void>;
}

/** Writes a new token into `dir` (atomically: a reader never sees half a token) and returns it. */
export async function issueControlToken(dir: string): Promise<ControlToken> {
  const token = randomBytes(32).toString('base64url');
  const path = join(dir, CONTROL_TOKEN_FILE);
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, `${token}\n`, { mode: 0o600 });
  await rename(partial, path);
  return {
    token,
    path,
    async revoke() {
      if ((await readControlToken(dir)) === token) await unlink(path).catch(() => undefined);
    },
  };
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
