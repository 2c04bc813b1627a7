/** http.auth: secrets read from their files (errors name the key, the file and what it should hold), checked per request. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorized, loadConsoleAuth } from '../../../src/server/ops/console-auth.js';

const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('loadConsoleAuth', () => {
  it('reads a token or a password from its file (one trailing newline dropped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'console-auth-'));
    await writeFile(join(dir, 't'), 'token-0123456789\n');
    await writeFile(join(dir, 'p'), 'password-xyz');
    expect(await loadConsoleAuth({ tokenFile: join(dir, 't') })).toEqual({ token: 'token-0123456789' });
    expect(await loadConsoleAuth({ user: 'op', passwordFile: join(dir, 'p') })).toEqual({ user: 'op', password: 'password-xyz' });
  });

  it('names the key, the file and what is expected when the file is missing, short or has several lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'console-auth-'));
    await expect(loadConsoleAuth({ tokenFile: join(dir, 'missing') })).rejects.toThrow(
      `http.auth.tokenFile: cannot read ${join(dir, 'missing')} (ENOENT): expected a file holding the secret on one line, readable by the bridge's user`,
    );
    await writeFile(join(dir, 'short'), 'abc\n');
    await expect(loadConsoleAuth({ user: 'op', passwordFile: join(dir, 'short') })).rejects.toThrow(
      /^http\.auth\.passwordFile: .*short holds fewer than 8 characters: expected one line of at least 8 characters \(e\.g\. openssl rand -hex 32 > /,
    );
    await writeFile(join(dir, 'two'), 'line-one-long\nline-two-long\n');
    await expect(loadConsoleAuth({ tokenFile: join(dir, 'two') })).rejects.toThrow(/two holds more than one line/);
  });
});

describe('authorized', () => {
  it('is always true without http.auth', () => {
    expect(authorized(req(), null)).toBe(true);
  });

  it('takes the token as a bearer token or as the Basic password', () => {
    const auth = { token: 'token-0123456789' };
    expect(authorized(req('Bearer token-0123456789'), auth)).toBe(true);
    expect(authorized(req(basic('', 'token-0123456789')), auth)).toBe(true);
    expect(authorized(req('Bearer token-012345678'), auth)).toBe(false);
    expect(authorized(req(), auth)).toBe(false);
    expect(authorized(req('Digest x'), auth)).toBe(false);
  });

  it('takes the user and password as Basic auth only, both right', () => {
    const auth = { user: 'op', password: 'password-xyz' };
    expect(authorized(req(basic('op', 'password-xyz')), auth)).toBe(true);
    expect(authorized(req(basic('op', 'password-xy')), auth)).toBe(false);
    expect(authorized(req(basic('other', 'password-xyz')), auth)).toBe(false);
    expect(authorized(req('Bearer password-xyz'), auth)).toBe(false);
    expect(authorized(req('Basic not-base64-without-colon'), auth)).toBe(false);
  });
});
