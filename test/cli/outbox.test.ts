/** `alarm-bridge outbox status|list|retry|discard` in cluster mode, against a real nats-server (docs/cluster.md §6). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { openClusterLog } from '../../src/sink/cluster/cluster-log.js';
import { startEmulator } from '../../src/emulator/server.js';
import { emulatorSink, until } from '../e2e/api-harness.js';
import { startTestBridge, TcpPanel, text, type TestBridge } from '../server/harness.js';
import { clusterConfig, natsForFile } from '../sink/cluster/helpers.js';
import { accountEvent } from '../sink/failing-api.js';
import { silentLogger } from '../sink/outbox/helpers.js';
import { runCli } from './run-cli.js';

const nats = natsForFile();
let running: TestBridge[] = [];
let streamNo = 0;
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

const frame = (account: string, data: string, seq: string) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account, data, timestamp: new Date() });
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

/** A bridge in cluster mode (file sink) with `accounts`, and its config written to `bridge.json` with `written`. */
async function clusterBridge(
  accounts: Record<string, unknown>,
  instance = 'bridge-a',
): Promise<{ b: TestBridge; cluster: Record<string, unknown> }> {
  const cluster = { nats: { servers: nats().urls }, stream: `CLI_${++streamNo}`, replicas: 1, instance };
  const b = await startTestBridge({ accounts, cluster });
  running.push(b);
  await until(() => b.bridge.cluster!.runtime.role.delivering, 5_000);
  return { b, cluster };
}

async function writeConfig(b: TestBridge, accounts: Record<string, unknown>, cluster: Record<string, unknown>): Promise<string> {
  const path = join(b.dir, 'bridge.json');
  await writeFile(
    path,
    JSON.stringify({ accounts, cluster: { ...cluster, instance: 'operator' }, sink: { type: 'file', path: 'ops.ndjson' } }),
  );
  return path;
}

describe('outbox commands in cluster mode', () => {
  it('status names the lease holder; list --dead shows a kept event; retry after the fix has the delivering bridge deliver it with its id', async () => {
    const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' }, '5555': { cameraId: 'cam5' } };
    const { b, cluster } = await clusterBridge(accounts);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('1234', '#1234|NBA1', '0001'));
    panel.write(frame('5555', '#5555|NBA2', '0002'));
    expect((await panel.waitForReplies(2)).map((r) => text(r).includes('"ACK"'))).toEqual([true, true]);
    panel.end();
    await until(async () => (await b.events()).length === 1);

    const fixedAccounts = { ...accounts, '5555': { locationId: 'LOC5', cameraId: 'cam5' } };
    const configPath = await writeConfig(b, fixedAccounts, cluster);
    const status = await runCli(['outbox', 'status', '--config', configPath]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      view: 'cluster',
      stream: cluster.stream,
      depth: 0,
      deadLetters: 1,
      lease: { holder: 'bridge-a' },
    });
    const [letter] = lines((await runCli(['outbox', 'list', '--dead', '--config', configPath])).stdout);
    expect(letter).toMatchObject({
      view: 'cluster',
      reason: 'unmapped-account',
      account: '5555',
      configKey: 'accounts["5555"].locationId',
    });

    const retried = await runCli(['outbox', 'retry', '--config', configPath]);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual({ requeued: 1, ids: [letter!.id], skipped: [] });
    await until(async () => (await b.events()).length === 2, 10_000);
    expect((await b.events())[1]).toMatchObject({ location_id: 'LOC5', camera_id: 'cam5', event_id: letter!.id });
    expect(JSON.parse((await runCli(['outbox', 'status', '--config', configPath])).stdout)).toMatchObject({ depth: 0, deadLetters: 0 });
  }, 30_000);

  it('list shows the pending events while nobody delivers; discard needs a choice and drops the chosen letters', async () => {
    const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' }, '5555': { cameraId: 'cam5' }, '6666': { cameraId: 'cam6' } };
    const { b, cluster } = await clusterBridge(accounts);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('5555', '#5555|NBA2', '0001'));
    panel.write(frame('6666', '#6666|NBA3', '0002'));
    await panel.waitForReplies(2);
    panel.end();
    await until(async () => (await b.bridge.cluster!.dead.count()) === 2);
    // The bridge stops (releasing the lease); an instance that only stores takes two more events: nobody delivers them.
    await b.stop();
    const configPath = await writeConfig(b, accounts, cluster);
    const storing = await openClusterLog(clusterConfig(nats().urls, 'bridge-b', cluster.stream as string), {
      logger: silentLogger,
      duplicateWindowSeconds: 120,
    });
    try {
      await storing.append([accountEvent('1234', 1), accountEvent('1234', 2)]);
    } finally {
      await storing.close();
    }
    const pending = lines((await runCli(['outbox', 'list', '--config', configPath])).stdout);
    expect(pending.map((p) => [p.view, p.account, p.id, p.event?.body?.event_id])).toEqual([
      ['cluster', '1234', 'evt-1234-1', 'evt-1234-1'],
      ['cluster', '1234', 'evt-1234-2', 'evt-1234-2'],
    ]);
    expect(lines((await runCli(['outbox', 'list', '--limit', '1', '--config', configPath])).stdout)).toHaveLength(1);
    expect(JSON.parse((await runCli(['outbox', 'status', '--config', configPath])).stdout)).toMatchObject({
      depth: 2,
      pending: null,
      deadLetters: 2,
      lease: null,
    });

    const refused = await runCli(['outbox', 'discard', '--config', configPath]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--all');
    const discarded = await runCli(['outbox', 'discard', '--account', '5555', '--config', configPath]);
    const out = lines(discarded.stdout);
    expect(out.at(-1)).toMatchObject({ discarded: 1 });
    expect(out[0]).toMatchObject({ account: '5555', reason: 'unmapped-account' });
    const left = lines((await runCli(['outbox', 'list', '--dead', '--config', configPath])).stdout);
    expect(left.map((l) => l.account)).toEqual(['6666']);
  }, 30_000);

  it('names cluster.nats.servers when no NATS server answers', async () => {
    const { b, cluster } = await clusterBridge({ '1234': { locationId: 'LOC' } });
    const configPath = await writeConfig(b, { '1234': { locationId: 'LOC' } }, { ...cluster, nats: { servers: ['nats://127.0.0.1:1'] } });
    const result = await runCli(['outbox', 'status', '--config', configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cluster.nats.servers');
    expect(result.stderr).toContain(configPath);
  }, 30_000);

  it('an event the API keeps failing past maxAgeHours lands in the dead stream; retry after the API recovers delivers it', async () => {
    const emulator = await startEmulator({ failureRate: 1, quiet: true });
    try {
      const { sink } = await emulatorSink(emulator);
      const cluster = {
        nats: { servers: nats().urls },
        stream: `CLI_${++streamNo}`,
        replicas: 1,
        instance: 'bridge-a',
        maxAgeHours: 1 / 3600,
      };
      const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' } };
      const b = await startTestBridge({ accounts, cluster, sink });
      running.push(b);
      const panel = await TcpPanel.open(b.bridge.port('tcp'));
      panel.write(frame('1234', '#1234|NBA1', '0001'));
      expect(text((await panel.waitForReplies(1))[0]!)).toContain('"ACK"');
      panel.end();
      const configPath = join(b.dir, 'bridge.json');
      await writeFile(configPath, JSON.stringify({ accounts, cluster: { ...cluster, instance: 'operator' }, sink }));
      const dead = async () => lines((await runCli(['outbox', 'list', '--dead', '--config', configPath])).stdout);
      await until(async () => (await dead()).length === 1, 10_000);
      const [letter] = await dead();
      expect(letter).toMatchObject({ reason: 'max-age', account: '1234' });
      expect(emulator.events().some((e) => e.status === 'accepted')).toBe(false);

      emulator.setFaults({ failureRate: 0 });
      expect(JSON.parse((await runCli(['outbox', 'retry', '--config', configPath])).stdout)).toMatchObject({
        requeued: 1,
        ids: [letter!.id],
      });
      await until(() => emulator.events().some((e) => (e.body as { event_id: string }).event_id === letter!.id), 10_000);
    } finally {
      await emulator.close();
    }
  }, 30_000);
});
