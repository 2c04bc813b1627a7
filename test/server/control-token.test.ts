import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerToken, CONTROL_TOKEN_FILE, issueControlToken, readControlToken } from '../../src/server/control-token.js';

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
  it('is a fresh random secret per start, written owner-only and read back', async () => {
    const dir = await tempDir();
    expect(await readControlToken(dir)).toBeNull();
    const first = await issueControlToken(dir);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.path).toBe(join(dir, CONTROL_TOKEN_FILE));
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);
    expect(await readControlToken(dir)).toBe(first.token);
    const second = await issueControlToken(dir);
    expect(second.token).not.toBe(first.token);
    expect(await readControlToken(dir)).toBe(second.token);
  });

  it("revoking removes the file only while it holds this token (a newer bridge's token stays)", async () => {
    const dir = await tempDir();
    const old = await issueControlToken(dir);
    const current = await issueControlToken(dir);
    await old.revoke();
    expect(await readControlToken(dir)).toBe(current.token);
    await current.revoke();
    expect(await readControlToken(dir)).toBeNull();
    await current.revoke();
  });

  it('reads an empty file as no token, and reports other read errors', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, CONTROL_TOKEN_FILE), '\n');
    expect(await readControlToken(dir)).toBeNull();
    await writeFile(join(dir, 'plain-file'), 'x');
    await expect(readControlToken(join(dir, 'plain-file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(await readFile(join(dir, CONTROL_TOKEN_FILE), 'utf8')).toBe('\n');
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
