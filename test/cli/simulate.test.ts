import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/frame-input.js';
import {
  DEFAULT_SIM_KEY_HEX,
  LatencyHistogram,
  parseMix,
  runSimulate,
  simulateCommand,
  type SimulateReport,
} from '../../src/cli/simulate.js';
import { startTestBridge, type TestBridge } from '../server/harness.js';

const accounts = Object.fromEntries(
  Array.from({ length: 5 }, (_, i) => [
    `SIM000${i + 1}`,
    { key: DEFAULT_SIM_KEY_HEX, keyEncoding: 'hex', locationId: 'LOC', cameraId: 'cam', recorderId: 'rec' },
  ]),
);
const clearAccounts = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`CLR000${i + 1}`, { locationId: 'LOC', cameraId: 'cam' }]));

let b: TestBridge;
beforeAll(async () => {
  b = await startTestBridge({ accounts: { ...accounts, ...clearAccounts }, log: { level: 'warn' } });
});
afterAll(() => b.stop());

async function openConnections(): Promise<number> {
  const metric = await b.bridge.metrics.openConnections.get();
  return metric.values.reduce((n, v) => n + v.value, 0);
}

async function settledConnections(): Promise<number> {
  for (let i = 0; i < 50 && (await openConnections()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return openConnections();
}

describe('simulate', () => {
  it('runs 5 encrypted closed-loop panels for 1 s: frames ACKed, no errors, every socket closed', async () => {
    const report: SimulateReport = await runSimulate({
      to: `127.0.0.1:${b.bridge.port('tcp')}`,
      panels: 5,
      rate: 0,
      durationSeconds: 1,
      encrypted: true,
    });
    expect(Object.keys(report).sort()).toEqual(
      [
        'acked',
        'connected',
        'cpuPercent',
        'durationSeconds',
        'encrypted',
        'errorKinds',
        'errors',
        'frames',
        'framesPerSecond',
        'latencyMs',
        'naks',
        'panels',
        'rate',
        'sent',
        'warmupSeconds',
      ].sort(),
    );
    expect(report).toMatchObject({ panels: 5, connected: 5, encrypted: true, rate: 0, errors: 0, naks: 0 });
    expect(report.frames).toBeGreaterThan(50);
    expect(report.acked).toBe(report.frames);
    expect(report.sent).toBeGreaterThanOrEqual(report.frames);
    expect(report.durationSeconds).toBeGreaterThan(0.9);
    expect(report.framesPerSecond).toBeGreaterThan(0);
    const { p50, p90, p99, max } = report.latencyMs;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p90);
    expect(p90).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
    expect(await settledConnections()).toBe(0);
    const events = await b.events();
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ location_id: 'LOC', camera_id: 'cam', event_type: 'alarm' });
  });

  it('sends R frames per second per panel, mixes sia/cid/null, and counts NAKs (clear text for an encrypted account)', async () => {
    const paced = await runSimulate({
      to: `127.0.0.1:${b.bridge.port('tcp')}`,
      panels: 3,
      rate: 20,
      durationSeconds: 0.6,
      mix: ['sia', 'cid', 'null'],
      accountPrefix: 'CLR',
    });
    expect(paced).toMatchObject({ connected: 3, errors: 0, naks: 0 });
    expect(paced.acked).toBeGreaterThanOrEqual(10); // ≈ 3 × 20 × 0.6 = 36
    expect(paced.acked).toBeLessThanOrEqual(60);
    const naked = await runSimulate({ to: `127.0.0.1:${b.bridge.port('tcp')}`, panels: 2, rate: 0, durationSeconds: 0.3 });
    expect(naked.naks).toBe(naked.frames);
    expect(naked.acked).toBe(0);
  });

  it('idles panels after --frames-per-panel and stops early on abort', async () => {
    const stop = new AbortController();
    let connectedSeen = -1;
    const report = await runSimulate({
      to: `127.0.0.1:${b.bridge.port('tcp')}`,
      panels: 5,
      rate: 0,
      durationSeconds: 30,
      encrypted: true,
      framesPerPanel: 2,
      connectBatch: 2,
      onConnected: (n) => (connectedSeen = n),
      onIdle: () => stop.abort(),
      signal: stop.signal,
    });
    expect(connectedSeen).toBe(5);
    expect(report).toMatchObject({ sent: 10, frames: 10, acked: 10, errors: 0 });
    expect(report.durationSeconds).toBeLessThan(5);
    expect(await settledConnections()).toBe(0);
  });

  it('spreads the panels over several receivers in turn', async () => {
    // Two fresh receivers: frames of the tests before (same accounts, same second) would count as retransmissions.
    const receivers = [
      await startTestBridge({ accounts, log: { level: 'warn' } }),
      await startTestBridge({ accounts, log: { level: 'warn' } }),
    ];
    const stop = new AbortController();
    try {
      const report = await runSimulate({
        to: [`127.0.0.1:${receivers[0]!.bridge.port('tcp')}`, { host: '127.0.0.1', port: receivers[1]!.bridge.port('tcp') }],
        panels: 4,
        rate: 0,
        durationSeconds: 30,
        encrypted: true,
        framesPerPanel: 1,
        onIdle: () => stop.abort(),
        signal: stop.signal,
      });
      expect(report).toMatchObject({ connected: 4, acked: 4, errors: 0 });
      const accountsOf = async (receiver: TestBridge) => (await receiver.events()).map((e) => e.payload.account).sort();
      expect(await accountsOf(receivers[0]!)).toEqual(['SIM0001', 'SIM0003']);
      expect(await accountsOf(receivers[1]!)).toEqual(['SIM0002', 'SIM0004']);
    } finally {
      await Promise.all(receivers.map((r) => r.stop()));
    }
  });

  it('counts connection failures as errors', async () => {
    const report = await runSimulate({ to: '127.0.0.1:1', panels: 2, rate: 0, durationSeconds: 0.1 });
    expect(report).toMatchObject({ connected: 0, frames: 0, errors: 2, errorKinds: { connect: 2 } });
  });

  it('validates options and runs as the `simulate` command module', async () => {
    await expect(runSimulate({ to: 'x:1', panels: 0, rate: 0, durationSeconds: 1 })).rejects.toThrow(/--panels/);
    await expect(runSimulate({ to: 'nope', panels: 1, rate: 0, durationSeconds: 1 })).rejects.toThrow(UsageError);
    expect(() => parseMix('sia,foo')).toThrow(/--mix/);
    expect(parseMix('SIA, null')).toEqual(['sia', 'null']);
    let stdout = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
    let argv: { exitCode?: number };
    try {
      argv = (await yargs([
        'simulate',
        '--to',
        `127.0.0.1:${b.bridge.port('tcp')}`,
        '--panels',
        '2',
        '--rate',
        '0',
        '--duration',
        '0.3',
        '--encrypted',
        '--mix',
        'sia,cid',
      ])
        .command(simulateCommand)
        .strict()
        .parseAsync()) as { exitCode?: number };
    } finally {
      process.stdout.write = write;
    }
    expect(argv.exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ panels: 2, connected: 2, errors: 0, encrypted: true });
    expect(report.acked).toBeGreaterThan(0);
  });

  it('keeps latency percentiles within 1 % in a fixed-size histogram', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 … 100 ms
    expect(h.count).toBe(10_000);
    expect(h.max).toBe(100);
    expect(h.percentile(0.5)).toBeGreaterThanOrEqual(50);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(50 * 1.01);
    expect(h.percentile(0.99)).toBeGreaterThanOrEqual(99);
    expect(h.percentile(0.99)).toBeLessThanOrEqual(99 * 1.01);
    expect(h.percentile(1)).toBe(100);
    h.record(0);
    h.reset();
    expect(h.percentile(0.5)).toBe(0);
  });
});
