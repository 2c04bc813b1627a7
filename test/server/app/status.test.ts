/** The status server wiring: the control token is published once the server listens, and never left behind. */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startStatus, type StatusHandle } from '../../../src/server/app/status.js';
import { createLogger } from '../../../src/log.js';
import { CONTROL_TOKEN_FILE, readControlToken } from '../../../src/server/ops/control-token.js';
import { freePort, startTestBridge, type TestBridge } from '../harness.js';

const logger = createLogger({ level: 'silent' });
let bridges: TestBridge[] = [];
let handles: StatusHandle[] = [];
afterEach(async () => {
  await Promise.allSettled(handles.map((h) => h.close()));
  await Promise.allSettled(bridges.map((b) => b.stop()));
  bridges = [];
  handles = [];
});

async function bridgeWith(overrides: Record<string, unknown>): Promise<TestBridge> {
  const b = await startTestBridge({ accounts: {}, log: { level: 'silent' }, ...overrides });
  bridges.push(b);
  return b;
}

const retry = (port: number, token: string | null) =>
  fetch(`http://127.0.0.1:${port}/outbox/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: '{}',
  });

describe('startStatus: status server and control token', () => {
  it('publishes the token the server accepts once it listens; withdrawing it and closing leave nothing behind', async () => {
    const b = await bridgeWith({ outbox: { dir: 'outbox' }, http: { host: '127.0.0.1', port: 0 } });
    const status = (await startStatus(b.config, b.bridge, logger))!;
    handles.push(status);
    const outboxDir = b.config.outbox!.dir;
    const token = await readControlToken(outboxDir);
    expect(token).not.toBeNull();
    expect((await retry(status.port, token)).status).toBe(200);
    expect((await retry(status.port, 'not-the-token')).status).toBe(401);
    await status.withdrawToken();
    expect(await readControlToken(outboxDir)).toBeNull();
    // Still answering (the bridge is draining), but nobody can read a token any more.
    expect((await fetch(`http://127.0.0.1:${status.port}/healthz`)).status).toBe(200);
    await status.close();
    await expect(fetch(`http://127.0.0.1:${status.port}/healthz`)).rejects.toThrow();
  });

  it('removes a token an earlier bridge left behind, also when this one has no status server', async () => {
    const b = await bridgeWith({ outbox: { dir: 'outbox' } });
    const outboxDir = b.config.outbox!.dir;
    await writeFile(join(outboxDir, CONTROL_TOKEN_FILE), 'left-by-a-killed-bridge\n', { mode: 0o600 });
    expect(await startStatus(b.config, b.bridge, logger)).toBeNull();
    expect(await readControlToken(outboxDir)).toBeNull();
  });

  it('publishes no token when the port is taken, and none without an outbox (no outbox paths then)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const b = await bridgeWith({ outbox: { dir: 'outbox' }, http: { host: '127.0.0.1', port } });
      await expect(startStatus(b.config, b.bridge, logger)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(await readdir(b.config.outbox!.dir)).not.toContain(CONTROL_TOKEN_FILE);
    } finally {
      taken.close();
    }
    const plain = await bridgeWith({ http: { host: '127.0.0.1', port: 0 } });
    const status = (await startStatus(plain.config, plain.bridge, logger))!;
    handles.push(status);
    expect((await retry(status.port, null)).status).toBe(404);
  });

  it('does not start the status server when a token left behind cannot be removed', async () => {
    const port = await freePort();
    const b = await bridgeWith({ outbox: { dir: 'outbox' }, http: { host: '127.0.0.1', port } });
    // A directory where the token file goes: it cannot be unlinked, nor replaced by a rename.
    await mkdir(join(b.config.outbox!.dir, CONTROL_TOKEN_FILE, 'blocker'), { recursive: true });
    await expect(startStatus(b.config, b.bridge, logger)).rejects.toMatchObject({ code: expect.stringMatching(/^E(ISDIR|PERM)$/) });
    // Nothing listens: the port is free again.
    expect(await freePort(port)).toBe(port);
  });
});
