import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { BridgeConfig } from '../../../src/config/types.js';
import { createLogger } from '../../../src/log.js';
import { mapFrame, type SourceFrame } from '../../../src/mapper/index.js';
import { validatePartnerEvent } from '../../../src/sink/partner-event-schema.js';
import { BridgeMetrics } from '../../../src/server/ops/metrics.js';
import { FileSupervisionStore, type SupervisionStore } from '../../../src/server/ops/supervision-store.js';
import { ClusterRole } from '../../../src/sink/cluster/role.js';
import {
  defaultSupervisionStatePath,
  SUPERVISION_TOKEN,
  Supervisor,
  supervisionFor,
  type SupervisorTimers,
} from '../../../src/server/ops/supervision.js';

/** A manual clock: `advance` fires due timers in order and lets the promises they start run. */
class FakeClock implements SupervisorTimers {
  private seq = 0;
  private readonly pending = new Map<number, { due: number; callback: () => void }>();
  constructor(public ms: number) {}
  readonly now = () => new Date(this.ms);
  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { due: this.ms + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  async advance(ms: number): Promise<void> {
    const target = this.ms + ms;
    for (;;) {
      let next: [number, { due: number; callback: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].due <= target && (!next || entry[1].due < next[1].due)) next = entry;
      if (!next) break;
      this.pending.delete(next[0]);
      this.ms = Math.max(this.ms, next[1].due);
      next[1].callback();
      await new Promise((r) => setImmediate(r));
    }
    this.ms = target;
    await new Promise((r) => setImmediate(r));
  }
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const WINDOW_MS = (90 + 30) * 1000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supervision-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeConfig(over: Record<string, unknown> = {}): BridgeConfig {
  return parseConfig(
    {
      sink: { type: 'file', path: 'events.ndjson' },
      receiver: { unknownAccounts: 'accept', supervision: { intervalSeconds: 90, graceSeconds: 30 } },
      accounts: {
        '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' },
        abcd: { locationId: 'LOC-2', cameraId: 'CAM-2', supervision: { intervalSeconds: 600, graceSeconds: 0 } },
      },
      ...over,
    },
    join(dir, 'bridge.json'),
  );
}

interface Harness {
  supervisor: Supervisor;
  clock: FakeClock;
  metrics: BridgeMetrics;
  emitted: SourceFrame[];
  accept: { value: boolean };
  logs: () => string;
  setConfig: (c: BridgeConfig) => void;
}

function makeSupervisor(
  config: BridgeConfig,
  clock: FakeClock,
  statePath = join(dir, 'state', 'supervision.json'),
  role?: ClusterRole,
): Harness {
  let current = config;
  const emitted: SourceFrame[] = [];
  const accept = { value: true };
  const metrics = new BridgeMetrics();
  let logText = '';
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _e, cb) {
        logText += chunk.toString();
        cb();
      },
    }),
  });
  const supervisor = new Supervisor({
    config: () => current,
    statePath,
    emit: async (source) => {
      emitted.push(source);
      return accept.value;
    },
    logger,
    metrics,
    now: clock.now,
    timers: clock,
    retryMs: 30_000,
    ...(role ? { role } : {}),
  });
  return {
    supervisor,
    clock,
    metrics,
    emitted,
    accept,
    logs: () => logText,
    setConfig: (c) => {
      current = c;
    },
  };
}

/** The Partner Event API body the pipeline would post for a synthetic frame. */
function bodyOf(source: SourceFrame, config: BridgeConfig) {
  const mapped = mapFrame(source, config);
  expect(mapped).toHaveLength(1);
  const [first] = mapped;
  if (!first?.forwarded) throw new Error(`not forwarded: ${JSON.stringify(first)}`);
  expect(validatePartnerEvent(first.body).ok).toBe(true);
  return first.body;
}

/** A state file where account 1234 was last seen an hour before T0 and its failure is on record; the time, as ISO. */
async function writeFailedState(statePath: string): Promise<string> {
  const failedAt = new Date(T0 - 3600_000).toISOString();
  const failure = { lastSeen: failedAt, declaredAt: failedAt };
  const accounts = { '1234': { lastSeen: failedAt, peer: '10.0.0.5:1', transport: 'tcp', failure } };
  await writeFile(statePath, JSON.stringify({ version: 1, savedAt: failedAt, accounts }));
  return failedAt;
}

async function gauge(metrics: BridgeMetrics, name: 'supervisedAccounts' | 'accountsInFailure'): Promise<number> {
  return (await metrics[name].get()).values[0]?.value ?? 0;
}

describe('Supervisor', () => {
  it('emits exactly one trouble/active after interval + grace of silence, and a trouble/inactive on the next frame', async () => {
    const config = makeConfig({ accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } } });
    const clock = new FakeClock(T0);
    const h = makeSupervisor(config, clock);
    await h.supervisor.start();
    expect(await gauge(h.metrics, 'supervisedAccounts')).toBe(1);
    h.supervisor.activity('1234', '10.0.0.5:40000', 'tcp', clock.now());

    await clock.advance(WINDOW_MS - 1000);
    expect(h.emitted).toHaveLength(0);
    await clock.advance(1000);
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(1);
    const fail = h.emitted[0]!;
    expect(fail.token).toBe(SUPERVISION_TOKEN);
    expect(fail.protocol).toBe('dc09');
    expect(fail.account).toBe('1234');
    expect(fail.data).toBe(`supervision|fail|${new Date(T0).toISOString()}`);
    const failBody = bodyOf(fail, config);
    expect(failBody).toMatchObject({ event_type: 'trouble', event_status: 'active', location_id: 'LOC-1', camera_id: 'CAM-1' });
    expect(failBody.payload).toMatchObject({
      code: 'YC',
      category: 'trouble',
      token: SUPERVISION_TOKEN,
      peer: '10.0.0.5:40000',
      transport: 'tcp',
    });
    expect((failBody.payload as { text: string }).text).toBe(
      `communication failure: no report for 120 s (last seen ${new Date(T0).toISOString()} from 10.0.0.5:40000 over tcp)`,
    );
    expect(failBody.event_time).toBe(new Date(T0 + WINDOW_MS).toISOString());
    expect(await gauge(h.metrics, 'accountsInFailure')).toBe(1);
    expect(h.supervisor.accountsInFailure()).toEqual(['1234']);

    // Silent for a long time: no repeats.
    await clock.advance(10 * WINDOW_MS);
    await h.supervisor.settled();
    expect(h.emitted.filter((s) => s.account === '1234')).toHaveLength(1);

    const back = T0 + 11 * WINDOW_MS + 5000;
    clock.ms = back;
    h.supervisor.activity('1234', '10.0.0.6:40001', 'udp', new Date(back));
    await h.supervisor.settled();
    const restores = h.emitted.filter((s) => s.account === '1234').slice(1);
    expect(restores).toHaveLength(1);
    const restoreBody = bodyOf(restores[0]!, config);
    expect(restoreBody).toMatchObject({ event_type: 'trouble', event_status: 'inactive', location_id: 'LOC-1' });
    expect(restoreBody.payload).toMatchObject({ code: 'YK', category: 'trouble-restore', peer: '10.0.0.6:40001', transport: 'udp' });
    expect(restoreBody.event_id).not.toBe(failBody.event_id);
    expect(await gauge(h.metrics, 'accountsInFailure')).toBe(0);

    // Further frames: nothing more; the timer runs again.
    h.supervisor.activity('1234', '10.0.0.6:40001', 'udp', new Date(back + 1000));
    await h.supervisor.settled();
    expect(h.emitted.filter((s) => s.account === '1234')).toHaveLength(2);
    expect((await h.metrics.supervisionEvents.get()).values.map((v) => [v.labels.kind, v.labels.result, v.value])).toEqual(
      expect.arrayContaining([
        ['fail', 'accepted', 1],
        ['restore', 'accepted', 1],
      ]),
    );
    await h.supervisor.stop();
  });

  it('keeps resetting the window while frames keep coming', async () => {
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock);
    await h.supervisor.start();
    for (let i = 0; i < 20; i++) {
      h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
      h.supervisor.activity('ABCD', '10.0.0.7:1', 'tcp', clock.now());
      await clock.advance(90_000);
    }
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(0);
    await h.supervisor.stop();
  });

  it('uses the account supervision over the receiver default and matches accounts case-insensitively', async () => {
    const config = makeConfig();
    expect(supervisionFor(config, 'ABCD')).toEqual({ intervalSeconds: 600, graceSeconds: 0 });
    expect(supervisionFor(config, '1234')).toEqual({ intervalSeconds: 90, graceSeconds: 30 });
    const clock = new FakeClock(T0);
    const h = makeSupervisor(config, clock);
    await h.supervisor.start();
    h.supervisor.activity('abcd', '10.0.0.7:1', 'tcp', clock.now());
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(599_000);
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.account)).toEqual(['1234']);
    await clock.advance(1000);
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.account)).toEqual(['1234', 'ABCD']);
    expect(bodyOf(h.emitted[1]!, config)).toMatchObject({ location_id: 'LOC-2', event_type: 'trouble', event_status: 'active' });
    await h.supervisor.stop();
  });

  it('does not supervise unknown accounts, nor configured accounts without supervision', async () => {
    const config = makeConfig({
      receiver: { unknownAccounts: 'accept', supervision: null },
      accounts: {
        '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' },
        '5555': { locationId: 'LOC-5', cameraId: 'CAM-5', supervision: { intervalSeconds: 60, graceSeconds: 0 } },
      },
    });
    const clock = new FakeClock(T0);
    const h = makeSupervisor(config, clock);
    await h.supervisor.start();
    h.supervisor.activity('9999', '10.0.0.9:1', 'tcp', clock.now());
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    h.supervisor.activity('5555', '10.0.0.8:1', 'tcp', clock.now());
    expect(h.supervisor.status('9999')).toBeNull();
    expect(h.supervisor.status('1234')).toMatchObject({ supervised: false, lastSeen: null });
    expect(await gauge(h.metrics, 'supervisedAccounts')).toBe(1);
    await clock.advance(24 * 3600_000);
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.account)).toEqual(['5555']);
    await h.supervisor.stop();
  });

  it('gives every account one full window after start before declaring a failure, even one never seen', async () => {
    const config = makeConfig();
    const clock = new FakeClock(T0);
    const h = makeSupervisor(config, clock);
    await h.supervisor.start();
    await clock.advance(WINDOW_MS - 1);
    expect(h.emitted).toHaveLength(0);
    await clock.advance(1);
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(1);
    const fail = h.emitted[0]!;
    expect(fail.data).toBe('supervision|fail|never');
    expect(fail.events[0]).toMatchObject({ protocol: 'sia', code: 'YC' });
    expect((fail.events[0] as { text: string }).text).toContain(`never seen since supervision started ${new Date(T0).toISOString()}`);
    expect(bodyOf(fail, config)).toMatchObject({ event_type: 'trouble', event_status: 'active' });
    await h.supervisor.stop();
  });

  it('keeps last-seen across a restart and waits a full window after the new start', async () => {
    const statePath = join(dir, 'state', 'supervision.json');
    const config = makeConfig();
    const clock = new FakeClock(T0);
    const first = makeSupervisor(config, clock, statePath);
    await first.supervisor.start();
    first.supervisor.activity('1234', '10.0.0.5:40000', 'tcp', clock.now());
    await first.supervisor.stop();
    const saved = JSON.parse(await readFile(statePath, 'utf8'));
    expect(saved.accounts['1234']).toMatchObject({
      lastSeen: new Date(T0).toISOString(),
      peer: '10.0.0.5:40000',
      transport: 'tcp',
      failure: null,
    });
    expect((await readdir(join(dir, 'state'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // Down for 10 minutes (longer than the window): the new process must not fire at once.
    const restartAt = T0 + 600_000;
    const clock2 = new FakeClock(restartAt);
    const second = makeSupervisor(config, clock2, statePath);
    await second.supervisor.start();
    expect(second.supervisor.status('1234')).toMatchObject({
      supervised: true,
      lastSeen: new Date(T0),
      peer: '10.0.0.5:40000',
      transport: 'tcp',
      inFailure: false,
    });
    await clock2.advance(WINDOW_MS - 1000);
    await second.supervisor.settled();
    expect(second.emitted.filter((s) => s.account === '1234')).toHaveLength(0);
    await clock2.advance(1000);
    await second.supervisor.settled();
    const fails = second.emitted.filter((s) => s.account === '1234');
    expect(fails).toHaveLength(1);
    expect(fails[0]!.data).toBe(`supervision|fail|${new Date(T0).toISOString()}`);
    expect((fails[0]!.events[0] as { text: string }).text).toContain(
      `no report for ${(600_000 + WINDOW_MS) / 1000} s (last seen ${new Date(T0).toISOString()} from 10.0.0.5:40000 over tcp)`,
    );
    await second.supervisor.stop();
  });

  it('remembers a reported failure across a restart: no second failure, restore on the next frame', async () => {
    const statePath = join(dir, 'supervision.json');
    const config = makeConfig();
    const clock = new FakeClock(T0);
    const first = makeSupervisor(config, clock, statePath);
    await first.supervisor.start();
    first.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(WINDOW_MS);
    await first.supervisor.settled();
    expect(first.emitted.filter((s) => s.account === '1234')).toHaveLength(1);
    await first.supervisor.stop();
    expect(JSON.parse(await readFile(statePath, 'utf8')).accounts['1234'].failure).toMatchObject({ lastSeen: new Date(T0).toISOString() });

    const clock2 = new FakeClock(T0 + 3600_000);
    const second = makeSupervisor(config, clock2, statePath);
    await second.supervisor.start();
    expect(await gauge(second.metrics, 'accountsInFailure')).toBe(1);
    await clock2.advance(10 * WINDOW_MS);
    await second.supervisor.settled();
    expect(second.emitted.filter((s) => s.account === '1234')).toHaveLength(0);
    second.supervisor.activity('1234', '10.0.0.5:2', 'tcp', clock2.now());
    await second.supervisor.settled();
    const restore = second.emitted.filter((s) => s.account === '1234');
    expect(restore).toHaveLength(1);
    expect(bodyOf(restore[0]!, config)).toMatchObject({ event_type: 'trouble', event_status: 'inactive' });
    await second.supervisor.stop();
    expect(JSON.parse(await readFile(statePath, 'utf8')).accounts['1234'].failure).toBeNull();
  });

  it('retries a refused failure event with the same event id, across a restart too', async () => {
    const statePath = join(dir, 'supervision.json');
    const config = makeConfig();
    const clock = new FakeClock(T0);
    const first = makeSupervisor(config, clock, statePath);
    first.accept.value = false;
    await first.supervisor.start();
    first.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(WINDOW_MS);
    await clock.advance(30_000);
    const attempts = first.emitted.filter((s) => s.account === '1234');
    expect(attempts).toHaveLength(2);
    const ids = attempts.map((s) => bodyOf(s, config).event_id);
    expect(ids[1]).toBe(ids[0]);
    await first.supervisor.stop();
    // Not accepted: not on record.
    expect(JSON.parse(await readFile(statePath, 'utf8')).accounts['1234'].failure).toBeNull();

    const clock2 = new FakeClock(T0 + 600_000);
    const second = makeSupervisor(config, clock2, statePath);
    await second.supervisor.start();
    await clock2.advance(WINDOW_MS);
    await second.supervisor.settled();
    const again = second.emitted.filter((s) => s.account === '1234');
    expect(again).toHaveLength(1);
    expect(bodyOf(again[0]!, config).event_id).toBe(ids[0]);
    await second.supervisor.stop();
  });

  it('drops a failure that was never accepted when the panel comes back, without a restore', async () => {
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock);
    h.accept.value = false;
    await h.supervisor.start();
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(WINDOW_MS);
    expect(h.emitted.filter((s) => s.account === '1234')).toHaveLength(1);
    h.accept.value = true;
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(60_000);
    await h.supervisor.settled();
    expect(h.emitted.filter((s) => s.account === '1234')).toHaveLength(1);
    expect(h.supervisor.accountsInFailure()).toEqual([]);
    await h.supervisor.stop();
  });

  it('sends the restore when a failure event in flight is accepted after the panel came back', async () => {
    const config = makeConfig({ accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } } });
    const clock = new FakeClock(T0);
    const h = makeSupervisor(config, clock);
    let release: (ok: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((r) => {
      release = r;
    });
    const emitted: SourceFrame[] = [];
    const supervisor = new Supervisor({
      config: () => config,
      statePath: join(dir, 'supervision.json'),
      logger: createLogger({ level: 'silent' }),
      metrics: h.metrics,
      now: clock.now,
      timers: clock,
      emit: (source) => {
        emitted.push(source);
        return emitted.length === 1 ? gate : Promise.resolve(true);
      },
    });
    await supervisor.start();
    supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(WINDOW_MS);
    expect(emitted).toHaveLength(1);
    supervisor.activity('1234', '10.0.0.5:2', 'tcp', clock.now());
    expect(supervisor.accountsInFailure()).toEqual([]);
    release(true);
    await supervisor.settled();
    expect(emitted.map((s) => bodyOf(s, config).event_status)).toEqual(['active', 'inactive']);
    await supervisor.stop();
  });

  it('restores at start when a frame arrived before start() for an account on record as failed', async () => {
    const statePath = join(dir, 'supervision.json');
    const failedAt = await writeFailedState(statePath);
    const config = makeConfig({ accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } } });
    const clock = new FakeClock(T0);
    const h = makeSupervisor(config, clock, statePath);
    h.supervisor.activity('1234', '10.0.0.5:9', 'udp', clock.now());
    await h.supervisor.start();
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(1);
    expect(h.emitted[0]!.data).toBe(`supervision|restore|${failedAt}`);
    expect(bodyOf(h.emitted[0]!, config)).toMatchObject({ event_type: 'trouble', event_status: 'inactive' });
    expect(h.supervisor.status('1234')).toMatchObject({ lastSeen: new Date(T0), transport: 'udp', inFailure: false });
    await h.supervisor.stop();
    expect(JSON.parse(await readFile(statePath, 'utf8')).accounts['1234']).toMatchObject({
      failure: null,
      lastSeen: new Date(T0).toISOString(),
    });
  });

  it('writes the state file debounced and atomically', async () => {
    const statePath = join(dir, 'supervision.json');
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock, statePath);
    await h.supervisor.start();
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(500);
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await expect(readFile(statePath, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    await clock.advance(500);
    // The debounce timer itself writes the file (no flush needed); the write is real I/O, so wait for it.
    for (let i = 0; i < 200 && !existsSync(statePath); i++) await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(statePath)).toBe(true);
    await h.supervisor.flush();
    const saved = JSON.parse(await readFile(statePath, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.accounts['1234'].lastSeen).toBe(new Date(T0 + 500).toISOString());
    // It names accounts and panel addresses: readable by the bridge's user only (issue #15).
    expect((await stat(statePath)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['supervision.json']);
    await h.supervisor.stop();
  });

  it('starts from scratch on a corrupt state file', async () => {
    const statePath = join(dir, 'supervision.json');
    await writeFile(statePath, '{ not json');
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock, statePath);
    await h.supervisor.start();
    expect(h.logs()).toContain('state file is not valid');
    expect(h.supervisor.status('1234')).toMatchObject({ supervised: true, lastSeen: null });
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await h.supervisor.stop();
    expect(JSON.parse(await readFile(statePath, 'utf8')).version).toBe(1);
  });

  it('starts from scratch on a state file of binary garbage, and on entries of the wrong shape (keeping the good ones)', async () => {
    const statePath = join(dir, 'supervision.json');
    await writeFile(statePath, randomBytes(1000));
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock, statePath);
    await h.supervisor.start();
    expect(h.logs()).toContain('state file is not valid');
    expect(h.supervisor.status('1234')).toMatchObject({ supervised: true, lastSeen: null });
    await h.supervisor.stop();

    await writeFile(
      statePath,
      JSON.stringify({
        version: 1,
        savedAt: new Date(T0).toISOString(),
        accounts: { '1234': { lastSeen: new Date(T0 - 1000).toISOString(), peer: 7 }, ABCD: 'garbage' },
      }),
    );
    const again = makeSupervisor(makeConfig(), clock, statePath);
    await again.supervisor.start();
    expect(again.supervisor.status('1234')).toMatchObject({ supervised: true, lastSeen: new Date(T0 - 1000) });
    await again.supervisor.stop();
  });

  it('reconfigure: removed accounts stop being supervised, added ones get a full window', async () => {
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock);
    await h.supervisor.start();
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    h.supervisor.activity('ABCD', '10.0.0.7:1', 'tcp', clock.now());
    await clock.advance(60_000);
    h.setConfig(
      makeConfig({ accounts: { abcd: { locationId: 'LOC-2', cameraId: 'CAM-2' }, '7777': { locationId: 'LOC-7', cameraId: 'CAM-7' } } }),
    );
    h.supervisor.reconfigure();
    expect(await gauge(h.metrics, 'supervisedAccounts')).toBe(2);
    expect(h.supervisor.status('1234')).toBeNull();
    // ABCD now has the receiver default (120 s from its last frame); 7777 gets 120 s from the reload.
    await clock.advance(WINDOW_MS - 60_000);
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.account)).toEqual(['ABCD']);
    await clock.advance(60_000);
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.account)).toEqual(['ABCD', '7777']);
    await clock.advance(10 * WINDOW_MS);
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(2);
    await h.supervisor.stop();
  });

  it('with a cluster role only the delivering instance raises: standby records, delivering gets a full window, standby again stops', async () => {
    const config = makeConfig({ accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } } });
    const clock = new FakeClock(T0);
    const role = new ClusterRole();
    const h = makeSupervisor(config, clock, join(dir, 'supervision.json'), role);
    await h.supervisor.start();
    h.supervisor.activity('1234', '10.0.0.5:1', 'tcp', clock.now());
    await clock.advance(10 * WINDOW_MS);
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(0);
    expect(h.supervisor.status('1234')).toMatchObject({ lastSeen: new Date(T0), inFailure: false });

    role.set('delivering');
    await h.supervisor.settled();
    await clock.advance(WINDOW_MS - 1000);
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(0);
    await clock.advance(1000);
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.data)).toEqual([`supervision|fail|${new Date(T0).toISOString()}`]);
    expect(h.supervisor.accountsInFailure()).toEqual(['1234']);

    // Standby again: the panel's return is recorded, the restore is the delivering instance's to send.
    role.set('standby');
    await h.supervisor.settled();
    expect(h.supervisor.accountsInFailure()).toEqual([]);
    h.supervisor.activity('1234', '10.0.0.5:2', 'tcp', clock.now());
    await clock.advance(10 * WINDOW_MS);
    await h.supervisor.settled();
    expect(h.emitted).toHaveLength(1);

    // Delivering once more: the failure on record is taken over and ended by the frame seen meanwhile.
    role.set('delivering');
    await h.supervisor.settled();
    expect(h.emitted.map((s) => s.data)).toEqual([
      `supervision|fail|${new Date(T0).toISOString()}`,
      `supervision|restore|${new Date(T0).toISOString()}`,
    ]);
    expect(bodyOf(h.emitted[1]!, config)).toMatchObject({ event_type: 'trouble', event_status: 'inactive' });
    await h.supervisor.stop();
  });

  it('starts when its store cannot be read, and reads it again before it raises anything', async () => {
    const statePath = join(dir, 'supervision.json');
    await writeFailedState(statePath);
    const clock = new FakeClock(T0);
    const h = makeSupervisor(makeConfig(), clock);
    const file = new FileSupervisionStore({
      path: statePath,
      logger: createLogger({ level: 'silent' }),
      timers: clock,
      now: clock.now,
      debounceMs: 1000,
    });
    let unreadable = true;
    // The store's first read fails (a state bucket that does not answer yet); everything else is the file store.
    const store = new Proxy(file, {
      get(target, name) {
        if (name === 'load' && unreadable) {
          unreadable = false;
          return () => Promise.reject(new Error('no answer'));
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as SupervisionStore;
    const emitted: SourceFrame[] = [];
    let logText = '';
    const supervisor = new Supervisor({
      config: () => makeConfig(),
      store,
      emit: async (source) => {
        emitted.push(source);
        return true;
      },
      logger: createLogger({
        level: 'info',
        destination: new Writable({
          write(chunk, _e, cb) {
            logText += chunk.toString();
            cb();
          },
        }),
      }),
      metrics: h.metrics,
      now: clock.now,
      timers: clock,
    });
    await supervisor.start();
    await supervisor.settled();
    expect(logText).toContain('supervision: state unreadable at start');
    // Read on the second attempt: the failure on record is known, so no second failure after a window.
    expect(supervisor.accountsInFailure()).toEqual(['1234']);
    await clock.advance(WINDOW_MS);
    await supervisor.settled();
    expect(emitted).toEqual([]);
    await supervisor.stop();
  });

  it('puts the state file in the outbox directory, else next to the config file', () => {
    const config = makeConfig();
    expect(defaultSupervisionStatePath(config)).toBe(join(dir, 'supervision.json'));
    expect(
      defaultSupervisionStatePath({
        ...config,
        outbox: { dir: '/var/lib/bridge/outbox', ackAfter: 'persisted', maxBytes: 1, deliveredTimeoutSeconds: 1, maxAgeHours: 1 },
      }),
    ).toBe('/var/lib/bridge/outbox/supervision.json');
  });
});
