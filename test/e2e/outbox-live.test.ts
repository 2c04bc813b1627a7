/**
 * `outbox retry|discard` while the bridge runs (issue #6: re-queue dead letters after the operator fixed the
 * config): the running `serve` holds the outbox, so the command asks it over its status server; alarms keep being
 * received meanwhile. Without an `http` section the command says how to proceed instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { CONTROL_TOKEN_FILE, newControlToken, publishControlToken } from '../../src/server/ops/control-token.js';
import { openOutbox } from '../../src/sink/outbox/index.js';
import { runCli } from '../cli/run-cli.js';
import { freePort, readSinkEvents, TcpPanel, text } from '../server/harness.js';
import { emulatorSink, until } from './api-harness.js';
import { startEmulator } from '../../src/emulator/server.js';
import { BIN, spawnBridge } from './bridge-process.js';

let child: ChildProcess | null = null;
const dirs: string[] = [];
afterEach(async () => {
  child?.kill('SIGKILL');
  child = null;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const frame = (account: string, seq: string, zone = 1) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account, data: `#${account}|NBA${zone}`, timestamp: new Date() });

describe('outbox retry and discard on a running bridge', () => {
  it('re-queues the fixed letter and drops the chosen one through the running bridge, which goes on receiving', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-live-'));
    dirs.push(dir);
    const configPath = join(dir, 'bridge.json');
    // Both accounts lack a camera: their events become `unmapped-camera` dead letters.
    const broken = {
      listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
      accounts: { '1234': { locationId: 'LOC-1' }, '5555': { locationId: 'LOC-5' } },
      outbox: { dir: 'outbox' },
      sink: { type: 'file', path: 'events.ndjson' },
      http: { host: '127.0.0.1', port: await freePort() },
      log: { level: 'info' },
    };
    await writeFile(configPath, JSON.stringify(broken));
    const bridge = spawnBridge(['serve', '--config', configPath]);
    child = bridge.child;
    const logged = bridge.logged;
    const port = Number(/"port":(\d+)/.exec(await logged(/"msg":"listening"/))![1]);
    await logged(/status server listening/);

    const panel = await TcpPanel.open(port);
    panel.write(frame('1234', '0001'));
    panel.write(frame('5555', '0002'));
    expect((await panel.waitForReplies(2)).map((r) => text(r).includes('"ACK"'))).toEqual([true, true]);
    const status = async () => JSON.parse((await runCli(['outbox', 'status', '--config', configPath])).stdout);
    await until(async () => (await status()).deadLetters === 2);

    // The operator fixes account 1234 and reloads; the bridge keeps running.
    await writeFile(
      configPath,
      JSON.stringify({ ...broken, accounts: { ...broken.accounts, '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } } }),
    );
    child.kill('SIGHUP');
    await logged(/configuration reloaded/);

    const retried = await runCli(['outbox', 'retry', '--account', '1234', '--config', configPath]);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ requeued: 1, skipped: [] });
    const events = () => readSinkEvents(join(dir, 'events.ndjson'));
    await until(async () => (await events()).length === 1);
    expect((await events())[0]).toMatchObject({ location_id: 'LOC-1', camera_id: 'CAM-1', event_type: 'alarm' });

    const discarded = await runCli(['outbox', 'discard', '--account', '5555', '--config', configPath]);
    expect(discarded.code).toBe(0);
    const out = discarded.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ account: '5555', reason: 'unmapped-camera' });
    expect(out[1]).toMatchObject({ discarded: 1 });
    expect(await status()).toMatchObject({ deadLetters: 0 });

    // Still receiving: the fixed account's next alarm (another zone: the same data in the same second would be a
    // retransmission) is ACKed and delivered.
    panel.write(frame('1234', '0003', 2));
    expect(text((await panel.waitForReplies(3))[2])).toContain('"ACK"0003');
    await until(async () => (await events()).length === 2);
    // Discard without a choice is refused before anything is asked.
    const refused = await runCli(['outbox', 'discard', '--config', configPath]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/choose the dead letters with --id, --account or --reason, or pass --all/);
    expect(refused.stderr).not.toMatch(/running bridge refused/);
    panel.end();

    // The control token lives next to the outbox, readable by its owner only, and goes with the bridge.
    const tokenFile = join(dir, 'outbox', CONTROL_TOKEN_FILE);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await expect(stat(tokenFile)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 40_000);

  it('keeps an unknown code as a dead letter naming its mapping.codes key; after the code is added (SIGHUP), retry delivers it with its id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-unknown-'));
    dirs.push(dir);
    const configPath = join(dir, 'bridge.json');
    const config = {
      listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
      accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } },
      mapping: { codes: {}, forwardUnknown: false },
      outbox: { dir: 'outbox' },
      sink: { type: 'file', path: 'events.ndjson' },
      http: { host: '127.0.0.1', port: await freePort() },
      log: { level: 'info' },
    };
    await writeFile(configPath, JSON.stringify(config));
    const bridge = spawnBridge(['serve', '--config', configPath]);
    child = bridge.child;
    const port = Number(/"port":(\d+)/.exec(await bridge.logged(/"msg":"listening"/))![1]);
    await bridge.logged(/status server listening/);

    const panel = await TcpPanel.open(port);
    // QQ is no SIA code the built-in tables know.
    panel.write(
      buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '0', account: '1234', data: '#1234|NQQ7', timestamp: new Date() }),
    );
    expect(text((await panel.waitForReplies(1))[0])).toContain('"ACK"0001');
    panel.end();
    const deadLetters = async () =>
      (await runCli(['outbox', 'list', '--dead', '--config', configPath])).stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    await until(async () => (await deadLetters()).length === 1);
    const [letter] = await deadLetters();
    expect(letter).toMatchObject({ account: '1234', reason: 'unknown-code', configKey: 'mapping.codes["sia:QQ"]' });
    expect(JSON.parse(await bridge.logged(/not in the built-in tables/))).toMatchObject({
      level: 40,
      configKey: 'mapping.codes["sia:QQ"]',
    });

    // Still unknown: retry skips it and says which key is missing.
    const early = await runCli(['outbox', 'retry', '--config', configPath]);
    expect(early.code).toBe(1);
    expect(JSON.parse(early.stdout)).toMatchObject({
      requeued: 0,
      skipped: [{ id: letter.id, reason: 'unknown-code', configKey: 'mapping.codes["sia:QQ"]' }],
    });

    await writeFile(
      configPath,
      JSON.stringify({ ...config, mapping: { codes: { 'sia:QQ': { type: 'trouble' } }, forwardUnknown: false } }),
    );
    child.kill('SIGHUP');
    await bridge.logged(/configuration reloaded/);
    const retried = await runCli(['outbox', 'retry', '--config', configPath]);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ requeued: 1, ids: [letter.id] });
    const events = () => readSinkEvents(join(dir, 'events.ndjson'));
    await until(async () => (await events()).length === 1);
    expect((await events())[0]).toMatchObject({ event_id: letter.id, event_type: 'trouble', location_id: 'LOC-1', camera_id: 'CAM-1' });
    expect(await deadLetters()).toEqual([]);
  }, 40_000);

  it('status and list show the running bridge live (attempts, last reason, next attempt during an outage), a stopped one on disk', async () => {
    const emulator = await startEmulator({ quiet: true, statusScript: Array.from({ length: 200 }, () => 503) });
    try {
      const { dir, sink } = await emulatorSink(emulator);
      dirs.push(dir);
      const configPath = join(dir, 'bridge.json');
      await writeFile(
        configPath,
        JSON.stringify({
          listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
          accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } },
          outbox: { dir: 'outbox' },
          sink,
          http: { host: '127.0.0.1', port: await freePort() },
          log: { level: 'info' },
        }),
      );
      const bridge = spawnBridge(['serve', '--config', configPath]);
      child = bridge.child;
      const port = Number(/"port":(\d+)/.exec(await bridge.logged(/"msg":"listening"/))![1]);
      await bridge.logged(/status server listening/);
      const panel = await TcpPanel.open(port);
      panel.write(frame('1234', '0001'));
      expect(text((await panel.waitForReplies(1))[0])).toContain('"ACK"0001');
      panel.end();

      const outbox = async (...args: string[]) =>
        (await runCli(['outbox', ...args, '--config', configPath])).stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      // The API keeps answering 503: the row shows the attempts so far, why they failed and when the next one comes.
      let row: Record<string, unknown> = {};
      await until(async () => {
        [row = {}] = await outbox('list');
        return (row.attempts as number) >= 2 && row.nextAttemptAt !== null;
      }, 15_000);
      expect(row).toMatchObject({
        view: 'live',
        account: '1234',
        lastReason: 'HTTP 503',
        nextAttemptAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(await outbox('status')).toEqual([expect.objectContaining({ view: 'live', state: 'running', depth: 1, deadLetters: 0 })]);
      expect(await outbox('list', '--dead')).toEqual([]);
      // The same outage is in the log at the default level.
      expect(JSON.parse(await bridge.logged(/delivery failed for account 1234/))).toMatchObject({ level: 40, reason: 'HTTP 503' });

      expect(await bridge.stop('SIGTERM')).toBe(0);
      child = null;
      expect(await outbox('status')).toEqual([expect.objectContaining({ view: 'on-disk', state: 'read-only', depth: 1 })]);
      expect(await outbox('list')).toEqual([expect.objectContaining({ view: 'on-disk', id: row.id, account: '1234' })]);
    } finally {
      await emulator.close();
    }
  }, 40_000);

  it('says the outbox is held and how to go on: no http section, no token, nobody answering, another server, a refusal, a reply it cannot read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-held-'));
    dirs.push(dir);
    const configPath = join(dir, 'bridge.json');
    const outboxDir = join(dir, 'outbox');
    const config = { accounts: {}, outbox: { dir: 'outbox' }, sink: { type: 'file', path: 'events.ndjson' } };
    // This process holds the outbox, as a running bridge would.
    const holder = await openOutbox(
      { dir: outboxDir, ackAfter: 'persisted', maxBytes: 1e9, deliveredTimeoutSeconds: 10, maxAgeHours: 72 },
      {
        logger: createLogger({ level: 'silent' }),
        start: false,
      },
    );
    // A server standing in for whatever listens on the configured port; each case sets its answer.
    let answer = { status: 400, body: '{"error":"ids: expected a list of event ids"}' };
    const seen: { authorization?: string | undefined; type?: string | undefined }[] = [];
    const other = createHttpServer((req, res) => {
      seen.push({ authorization: req.headers.authorization, type: req.headers['content-type'] });
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    const ask = async (...args: string[]) => {
      const result = await runCli(['outbox', ...args, '--config', configPath]);
      expect(result.code).toBe(2);
      return result.stderr;
    };
    try {
      await writeFile(configPath, JSON.stringify(config));
      expect(await ask('retry')).toMatch(
        /is in use by process \d+ \(a running bridge\): stop it first, or give it an "http" section in .*bridge\.json/,
      );

      await writeFile(
        configPath,
        JSON.stringify({ ...config, http: { host: '0.0.0.0', port: await freePort(), auth: { tokenFile: 'console.token' } } }),
      );
      expect(await ask('retry')).toMatch(
        /is in use by process \d+, and it published no control\.token there: it is still starting \(try again in a moment\), its status server is off, or it runs a version without one \(stop it first\)/,
      );

      const token = newControlToken();
      await publishControlToken(outboxDir, token);
      expect(await ask('retry')).toMatch(
        /is in use by process \d+, and its status server at http:\/\/127\.0\.0\.1:\d+\/outbox\/retry did not answer/,
      );

      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      await writeFile(
        configPath,
        JSON.stringify({ ...config, http: { host: '127.0.0.1', port: (other.address() as { port: number }).port } }),
      );
      expect(await ask('discard', '--all')).toMatch(
        /the running bridge refused "outbox discard" \(http:\/\/127\.0\.0\.1:\d+\/outbox\/discard\): ids: expected a list of event ids/,
      );
      expect(seen.at(-1)).toEqual({ authorization: `Bearer ${token}`, type: 'application/json' });

      answer = { status: 401, body: '{"error":"control token missing or wrong"}' };
      expect(await ask('retry')).toMatch(
        /the status server at http:\/\/127\.0\.0\.1:\d+\/outbox\/retry is not the bridge that holds .*outbox \(it refused that bridge's control token\): check "http" in .*bridge\.json \(a changed "http" takes effect only when the bridge restarts\)/,
      );

      for (const body of ['{"requeued":"1","ids":[],"skipped":[]}', '{"requeued":1,"ids":[1],"skipped":[]}', '[]', 'ok']) {
        answer = { status: 200, body };
        expect(await ask('retry')).toMatch(/the running bridge refused "outbox retry" \(.*\): HTTP 200 without the expected JSON/);
      }
      answer = { status: 200, body: '{"discarded":1,"ids":["e1"],"letters":"none"}' };
      expect(await ask('discard', '--all')).toMatch(/HTTP 200 without the expected JSON/);
    } finally {
      other.close();
      await holder.close();
    }
  });

  // Only root can start a process as another user; elsewhere the case cannot be set up.
  it.runIf(process.getuid?.() === 0)("tells a user who cannot read the bridge's token to run as the bridge's user", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-token-'));
    dirs.push(dir);
    await chmod(dir, 0o755);
    const configPath = join(dir, 'bridge.json');
    const outboxDir = join(dir, 'outbox');
    await writeFile(
      configPath,
      JSON.stringify({
        accounts: {},
        outbox: { dir: 'outbox' },
        sink: { type: 'file', path: 'events.ndjson' },
        http: { host: '127.0.0.1', port: await freePort() },
      }),
    );
    const holder = await openOutbox(
      { dir: outboxDir, ackAfter: 'persisted', maxBytes: 1e9, deliveredTimeoutSeconds: 10, maxAgeHours: 72 },
      {
        logger: createLogger({ level: 'silent' }),
        start: false,
      },
    );
    try {
      await chmod(outboxDir, 0o755);
      await publishControlToken(outboxDir, newControlToken());
      const other = spawn(process.execPath, [BIN, 'outbox', 'retry', '--config', configPath], {
        uid: 65534,
        gid: 65534,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      other.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      other.stdout!.resume();
      const code = await new Promise((resolve) => other.once('exit', resolve));
      expect(stderr).toMatch(
        /is in use by process \d+, and its control\.token there is readable by the bridge's user only \(mode 0600\): run this command as that user or as root/,
      );
      expect(code).toBe(2);
    } finally {
      await holder.close();
    }
  });
});
