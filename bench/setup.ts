/** What the benchmark phases share: the quick-mode switch, temp dirs, the bridge configuration and its logger. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_SIM_KEY_HEX } from '../src/cli/simulate.js';
import { createLogger, type Logger } from '../src/log.js';

/** `BENCH_QUICK=1`: every phase shortened, for a smoke run (figures are then indicative only). */
export const QUICK = process.env.BENCH_QUICK === '1';

export const BENCH_KEY_HEX = DEFAULT_SIM_KEY_HEX;
export const ACCOUNT_PREFIX = 'SIM';

export async function withTempDir<T>(name: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `alarm-bridge-bench-${name}-`));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Bridge configuration JSON: DC-09 over TCP on 127.0.0.1 (ephemeral port), accounts SIM0001… each with the AES key
 * the simulator uses (so every frame is encrypted) and ids that map, the file sink in `dir`, logging at info.
 */
export function benchConfigJson(dir: string, accounts: number): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (let i = 1; i <= accounts; i++) {
    table[`${ACCOUNT_PREFIX}${String(i).padStart(4, '0')}`] = {
      key: BENCH_KEY_HEX,
      keyEncoding: 'hex',
      locationId: `LOC-${i}`,
      recorderId: `REC-${i}`,
      cameraId: `CAM-${i}`,
    };
  }
  return {
    listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
    receiver: { maxConnections: Math.max(10_000, accounts + 2_000) },
    accounts: table,
    sink: { type: 'file', path: join(dir, 'events.ndjson') },
    log: { level: 'info' },
  };
}

/**
 * The bridge's logger for a benchmark: info level like production, written asynchronously as `serve` writes to
 * stdout (src/log.ts), but into a file so the summary on stdout stays one JSON object.
 */
export function benchLogger(file: string, level = 'info'): Logger {
  return createLogger({ level, destination: pino.destination({ dest: file, sync: false, mkdir: true }) });
}

export const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
