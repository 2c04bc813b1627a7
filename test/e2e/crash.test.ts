/**
 * Crash test (issue #6) with real processes: a panel client sends events over TCP while the bridge (a child
 * process) is killed with SIGKILL at random moments and restarted. At the end, every event that was ever ACKed
 * must have reached the emulator (duplicates only with the same event id).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { eventId } from '../../src/mapper/index.js';
import { buildRequest, Dc09Framer } from '../../src/protocols/dc09/index.js';
import { emulatorSink } from './api-harness.js';

const BIN = new URL('../../bin/alarm-bridge.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class BridgeProcess {
  child: ChildProcess | null = null;
  port = 0;
  constructor(private readonly configPath: string) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'serve', '--config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.port = 0;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const lines = createInterface({ input: child.stdout! });
    this.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bridge did not start: ${stderr}`)), 10_000);
      lines.on('line', (line) => {
        const m = /"port":(\d+),"msg":"listening"/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`bridge exited with ${code}: ${stderr}`)));
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.port = 0;
  }
}

/** Sends one frame on a fresh connection; resolves with the reply, or null on any failure (the caller retries). */
function exchange(port: number, frame: Buffer, timeoutMs = 1500): Promise<Buffer | null> {
  return new Promise((resolve) => {
    if (port === 0) return resolve(null);
    const socket = connect({ host: '127.0.0.1', port });
    const framer = new Dc09Framer();
    const done = (reply: Buffer | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk) => {
      const [reply] = framer.push(chunk).frames;
      if (reply) done(reply);
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

let emulator: Emulator | null = null;
let bridge: BridgeProcess | null = null;
afterAll(async () => {
  await bridge?.kill();
  await emulator?.close();
});

describe('SIGKILL at random moments loses no ACKed event', () => {
  it('delivers every ACKed event after repeated kills and restarts', async () => {
    emulator = await startEmulator({ quiet: true });
    const { dir, sink } = await emulatorSink(emulator);
    const accounts = Object.fromEntries(['C1', 'C2', 'C3'].map((a) => [a, { locationId: `LOC-${a}`, cameraId: `cam-${a}` }]));
    const configPath = join(dir, 'bridge.json');
    await writeFile(
      configPath,
      JSON.stringify({
        listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
        accounts,
        outbox: { dir: join(dir, 'outbox') },
        sink,
        log: { level: 'info' },
      }),
    );
    bridge = new BridgeProcess(configPath);
    await bridge.start();

    const total = 150;
    const acked = new Set<string>();
    let sending = true;
    let kills = 0;
    const killer = (async () => {
      while (sending) {
        await sleep(250 + Math.random() * 500);
        if (!sending) break;
        const t0 = Date.now();
        await bridge!.kill();
        kills++;
        await bridge!.start();
        if (process.env.CRASH_DEBUG) console.log(`restart took ${Date.now() - t0} ms`);
      }
    })();

    const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000); // frames carry whole seconds
    for (let i = 0; i < total; i++) {
      const account = `C${(i % 3) + 1}`;
      const data = `#${account}|Nri1/BA${i + 1}`;
      const frame = buildRequest({ token: 'SIA-DCS', sequence: String(i % 10000).padStart(4, '0'), line: '0', account, data, timestamp });
      for (let attempt = 0; ; attempt++) {
        const reply = await exchange(bridge.port, frame);
        if (reply && reply.toString('latin1').includes('"ACK"')) {
          acked.add(eventId({ account, token: 'SIA-DCS', data, time: timestamp, index: 0 }));
          await sleep(20); // spread the frames over several kill rounds
          break;
        }
        if (attempt > 200) throw new Error(`frame ${i} never ACKed`);
        await sleep(50);
      }
    }
    sending = false;
    await killer;

    const deadline = Date.now() + 30_000;
    const delivered = () => new Set(emulator!.events().map((e) => (e.body as { event_id: string }).event_id));
    while ([...acked].some((id) => !delivered().has(id)) && Date.now() < deadline) await sleep(100);
    const received = emulator.events().length;
    const missing = [...acked].filter((id) => !delivered().has(id));
    console.log(
      `crash test: ${total} frames, ${acked.size} ACKed, ${kills} SIGKILLs, ${received} POSTs received, ${delivered().size} distinct ids, ${missing.length} missing`,
    );
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(acked.size).toBe(total);
    expect(missing).toEqual([]);
    // Duplicates only with the same event id: every received id is one of ours.
    expect([...delivered()].every((id) => acked.has(id))).toBe(true);
  }, 120_000);
});
