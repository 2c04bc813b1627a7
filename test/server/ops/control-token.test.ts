import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bearerToken,
  clearControlToken,
  CONTROL_TOKEN_FILE,
  newControlToken,
  publishControlToken,
  readControlToken,
} from '../../../src/server/ops/control-token.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'control-token-'));
  dirs.push(dir);
  return dir;
};

describe('control token', () => {
  it('is a fresh random secret each time, published owner-only and read back', async () => {
    const dir = await tempDir();
    expect(await readControlToken(dir)).toBeNull();
    const first = newControlToken();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newControlToken()).not.toBe(first);
    const published = await publishControlToken(dir, first);
    expect(published.path).toBe(join(dir, CONTROL_TOKEN_FILE));
    expect((await stat(published.path)).mode & 0o777).toBe(0o600);
    expect(await readControlToken(dir)).toBe(first);
    const second = newControlToken();
    await publishControlToken(dir, second);
    expect(await readControlToken(dir)).toBe(second);
    expect((await readdir(dir)).sort()).toEqual([CONTROL_TOKEN_FILE]);
  });

  it("revoking removes the file only while it holds this token (a newer bridge's token stays)", async () => {
    const dir = await tempDir();
    const old = await publishControlToken(dir, newControlToken());
    const token = newControlToken();
    const current = await publishControlToken(dir, token);
    await old.revoke();
    expect(await readControlToken(dir)).toBe(token);
    await current.revoke();
    expect(await readControlToken(dir)).toBeNull();
    await current.revoke();
  });

  it('clears a token left behind, and does not mind when there is none', async () => {
    const dir = await tempDir();
    await publishControlToken(dir, newControlToken());
    await clearControlToken(dir);
    expect(await readControlToken(dir)).toBeNull();
    await clearControlToken(dir);
  });

  it('reads an empty file as no token, and reports other read errors', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, CONTROL_TOKEN_FILE), '\n');
    expect(await readControlToken(dir)).toBeNull();
    await writeFile(join(dir, 'plain-file'), 'x');
    await expect(readControlToken(join(dir, 'plain-file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('takes the token of a Bearer authorization header only', () => {
    expect(bearerToken('Bearer abc-DEF_1')).toBe('abc-DEF_1');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
