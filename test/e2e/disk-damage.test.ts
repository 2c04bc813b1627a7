/**
 * Start after any crash or damaged disk (issue #15), with real processes and files: a bridge (a child process)
 * ACKs panel events while the Partner API is unreachable, is killed with SIGKILL, its outbox files are damaged,
 * and it is started again against the emulator. Each time it starts, delivers every ACKed event outside the damaged
 * range, and reports the lost ones (`outbox status`, `/readyz` degraded, the lost-events metric).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { eventId } from '../../src/mapper/index.js';
import { buildRequest, Dc09Framer } from '../../src/protocols/dc09/index.js';
import { encodeCommit, encodeRecord, scanSegment } from '../../src/sink/outbox/journal-format.js';
import { emulatorSink, until } from './api-harness.js';

const BIN = new URL('../../bin/alarm-bridge.js', import.meta.url).pathname;
const ACCOUNTS = ['D1', 'D2', 'D3'];
const FRAMES = 45;
/** Segments of 12.5 KB (an eighth): several of them for 45 events. */
const MAX_BYTES = 100_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** `alarm-bridge serve` in a child process; resolves once it listens. */
async function startBridge(configPath: string): Promise<{ child: ChildProcess; port: number; stdout: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bridge did not start: ${stderr}`)), 15_000);
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      const m = /"port":(\d+),"msg":"listening"/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`bridge exited with ${code}: ${stderr}${stdout}`)));
  });
  return { child, port, stdout: () => stdout };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

function exchange(port: number, frame: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const framer = new Dc09Framer();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no reply'));
    }, 5_000);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk) => {
      const [reply] = framer.push(chunk).frames;
      if (!reply) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply.toString('latin1'));
    });
    socket.on('error', reject);
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Event records of a segment file: id, start and end offsets. */
async function eventsIn(file: string): Promise<Array<{ id: string; start: number; end: number }>> {
  const buf = await readFile(file);
  const out: Array<{ id: string; start: number; end: number }> = [];
  scanSegment(buf, false, (record, offset) => {
    if (record.type === 'event') out.push({ id: record.id, start: offset, end: offset + 12 + buf.readUInt32LE(offset) });
  });
  return out;
}

async function zeroPage(file: string, at: number): Promise<void> {
  const handle = await open(file, 'r+');
  await handle.write(Buffer.alloc(4096), 0, 4096, at);
  await handle.close();
}

interface Damage {
  name: string;
  /** `outbox.maxBytes` (its eighth is the segment size): small for several segments, large for one. */
  maxBytes?: number;
  /** Damages the outbox; returns the event ids it destroyed (expected lost) and the duplicated event records it wrote. */
  apply(outbox: string, segments: string[]): Promise<{ lost: string[]; duplicates?: number }>;
}

const DAMAGES: Damage[] = [
  {
    name: 'a torn record (half a batch written when the power went)',
    async apply(outbox, segments) {
      const half = encodeRecord({ type: 'outcome', seq: 1, outcome: 'delivered', detail: { id: 'x' } });
      await appendFile(join(outbox, segments.at(-1)!), half.subarray(0, 17));
      return { lost: [] };
    },
  },
  {
    name: '1,000 random bytes appended to the newest segment',
    async apply(outbox, segments) {
      await appendFile(join(outbox, segments.at(-1)!), randomBytes(1000));
      return { lost: [] };
    },
  },
  {
    name: 'a zeroed 4 KiB page among the last records of the newest segment, intact records after it',
    maxBytes: 1_000_000,
    async apply(outbox, segments) {
      const file = join(outbox, segments.at(-1)!);
      const events = await eventsIn(file);
      expect(events.length).toBeGreaterThan(8);
      // The page holds the start of an event record some records before the end.
      const target = events.at(-4)!;
      const pageAt = Math.max(8, target.start - 2048);
      const size = (await stat(file)).size;
      expect(pageAt + 4096).toBeLessThan(size);
      await zeroPage(file, pageAt);
      const lost = events.filter((e) => e.end > pageAt && e.start < pageAt + 4096).map((e) => e.id);
      expect(events.at(-1)!.start).toBeGreaterThan(pageAt + 4096);
      return { lost };
    },
  },
  {
    name: 'a zeroed 4 KiB page in an older segment',
    async apply(outbox, segments) {
      expect(segments.length).toBeGreaterThan(1);
      const file = join(outbox, segments[0]!);
      const events = await eventsIn(file);
      const pageAt = 8192;
      await zeroPage(file, pageAt);
      return { lost: events.filter((e) => e.end > pageAt && e.start < pageAt + 4096).map((e) => e.id) };
    },
  },
  {
    name: 'an event record written twice (its sequence number appears twice)',
    async apply(outbox, segments) {
      const file = join(outbox, segments.at(-1)!);
      const buf = await readFile(file);
      const [first] = await eventsIn(join(outbox, segments[0]!));
      const record = (await readFile(join(outbox, segments[0]!))).subarray(first!.start, first!.end);
      // A complete batch: the copy and a commit marker counting it, as the writer would have written it.
      const scan = scanSegment(buf, true, () => undefined);
      await appendFile(file, Buffer.concat([record, encodeCommit(scan.events + 1, scan.records + 1)]));
      return { lost: [], duplicates: 1 };
    },
  },
  {
    name: 'garbage in the dead-letter and supervision state files',
    async apply(outbox) {
      const valid = JSON.stringify({ v: 1, id: 'old-letter', account: 'D1', reason: 'permanent', deadAt: '2026-01-01T00:00:00.000Z' });
      await writeFile(
        join(outbox, 'dead-letters.ndjson'),
        Buffer.concat([Buffer.from(`${valid}\n`), randomBytes(500), Buffer.from('\n{"v":1,"id":\n'), randomBytes(100)]),
      );
      await writeFile(join(outbox, 'supervision.json'), randomBytes(700));
      return { lost: [] };
    },
  },
];

let emulator: Emulator;
const children: ChildProcess[] = [];
beforeAll(async () => {
  emulator = await startEmulator({ quiet: true });
});
afterAll(async () => {
  await Promise.all(children.map(kill));
  await emulator.close();
});

describe('SIGKILL, then a damaged disk: the bridge starts and loses nothing outside the damage', () => {
  it.each(DAMAGES.map((d) => [d.name, d] as const))(
    '%s',
    async (_name, damage) => {
      const { dir, sink } = await emulatorSink(emulator);
      const outbox = join(dir, 'outbox');
      const accounts = Object.fromEntries(
        ACCOUNTS.map((a) => [
          a,
          { locationId: `LOC-${a}`, cameraId: `cam-${a}`, supervision: { intervalSeconds: 3600, graceSeconds: 60 } },
        ]),
      );
      const httpPort = await freePort();
      const config = (apiSink: unknown) =>
        JSON.stringify({
          listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
          accounts,
          outbox: { dir: outbox, maxBytes: damage.maxBytes ?? MAX_BYTES },
          sink: apiSink,
          http: { host: '127.0.0.1', port: httpPort },
          log: { level: 'info' },
        });
      const configPath = join(dir, 'bridge.json');
      // The API is unreachable while the events are ACKed: they stay pending in the journal.
      const unreachable = {
        ...(sink as { auth: Record<string, unknown> }),
        baseUrl: 'http://127.0.0.1:9',
        auth: { ...(sink as { auth: Record<string, unknown> }).auth, tokenUrl: 'http://127.0.0.1:9/token' },
      };
      await writeFile(configPath, config(unreachable));
      const first = await startBridge(configPath);
      children.push(first.child);
      const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000);
      const acked: string[] = [];
      for (let i = 0; i < FRAMES; i++) {
        const account = ACCOUNTS[i % ACCOUNTS.length]!;
        const data = `#${account}|Nri1/BA${i + 1}`;
        const frame = buildRequest({ token: 'SIA-DCS', sequence: String(i + 1).padStart(4, '0'), line: '0', account, data, timestamp });
        const reply = await exchange(first.port, frame);
        expect(reply).toContain('"ACK"');
        acked.push(eventId({ account, token: 'SIA-DCS', data, time: timestamp, index: 0 }));
      }
      await kill(first.child);

      const segments = (await readdir(outbox)).filter((n) => n.endsWith('.journal')).sort();
      const { lost, duplicates = 0 } = await damage.apply(outbox, segments);

      // `outbox status` works on the damaged journal (read-only, next to no bridge) and reports the damage.
      const status = await runCli(['outbox', 'status', '--config', configPath]);
      expect(status.code, status.stderr).toBe(0);
      const report = JSON.parse(status.stdout) as {
        depth: number;
        damage: { lostEvents: number; ranges: number; duplicateEvents: number };
      };
      expect(report.damage.lostEvents).toBe(lost.length);
      expect(report.damage.duplicateEvents).toBe(duplicates);
      expect(report.depth).toBe(acked.length - lost.length);
      const list = await runCli(['outbox', 'list', '--config', configPath]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout.trim().split('\n')).toHaveLength(acked.length - lost.length);
      if (lost.length > 0) expect(list.stderr).toContain('outbox journal: damaged bytes skipped');

      await writeFile(configPath, config(sink));
      const second = await startBridge(configPath);
      children.push(second.child);
      const expected = acked.filter((id) => !lost.includes(id));
      const delivered = () => new Set(emulator.events().map((e) => (e.body as { event_id: string }).event_id));
      // Generous: a loaded machine can cost the restarted bridge a few backoffs; the log tail says why if it fails.
      await until(() => expected.every((id) => delivered().has(id)), 60_000).catch((err: Error) => {
        const missing = expected.filter((id) => !delivered().has(id));
        throw new Error(
          `${err.message}: ${missing.length} of ${expected.length} not delivered; bridge log tail:\n${second.stdout().split('\n').slice(-25).join('\n')}`,
        );
      });
      for (const id of lost) expect(delivered().has(id)).toBe(false);

      const readyz = (await (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).json()) as {
        status: string;
        checks: Record<string, { ok: boolean; detail?: string }>;
      };
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      if (lost.length > 0) {
        expect(readyz.status).toBe('degraded');
        expect(readyz.checks.journal).toMatchObject({ ok: true });
        expect(readyz.checks.journal!.detail).toContain(`${lost.length} event(s)`);
        expect(metrics).toMatch(new RegExp(`^alarm_bridge_outbox_lost_events ${lost.length}$`, 'm'));
        expect(second.stdout()).toContain('outbox journal: damaged bytes skipped');
        expect((await readdir(join(outbox, 'quarantine'))).length).toBeGreaterThan(0);
      } else if (duplicates > 0) {
        expect(readyz.status).toBe('degraded');
        expect(readyz.checks.journal!.detail).toContain(`${duplicates} event record(s) with a sequence number seen before skipped`);
        expect(metrics).toMatch(new RegExp(`^alarm_bridge_outbox_duplicate_events ${duplicates}$`, 'm'));
        expect(second.stdout()).toContain('outbox journal: event record with a sequence number seen before skipped');
      } else {
        expect(readyz.checks.journal).toBeUndefined();
        expect(metrics).toMatch(/^alarm_bridge_outbox_lost_events 0$/m);
      }
      await kill(second.child);
    },
    150_000,
  );
});
