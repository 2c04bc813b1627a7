/**
 * The disk's own durable-write round (docs/performance.md §9): 1 KiB appended to a scratch file and `fdatasync`ed,
 * one round after the other, through the outbox journal's own file operations (`defaultFileOps`: a synchronous
 * write and fdatasync, docs/performance.md §4). The outbox's open-loop latency cannot beat this round (a frame that
 * arrives while a round runs waits for it and then for its own), and it moves with the host from one minute to the
 * next, so the journal phases print it, measured just before each phase on the file system the outbox writes to.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultFileOps } from '../src/sink/outbox/journal.js';
import { ms, quantile, spread } from './process-gauge.js';

export interface DiskSyncFigures {
  rounds: number;
  bytesPerRound: number;
  /** One write + fdatasync round, in milliseconds. */
  ms: { p50: number; p90: number; p99: number; max: number };
}

/** Times `rounds` write + fdatasync rounds of `bytes` each on a scratch file in `dir` (removed afterwards). */
export async function measureDiskSync(dir: string, rounds: number, bytes = 1024): Promise<DiskSyncFigures> {
  const path = join(dir, `disk-sync-${process.pid}.scratch`);
  const data = Buffer.alloc(bytes, 0x2e);
  const times: number[] = [];
  const handle = await open(path, 'w');
  try {
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      await defaultFileOps.write(handle, data, i * bytes);
      await defaultFileOps.sync(handle);
      times.push(performance.now() - start);
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  const { p50, p99, max } = spread(times); // sorts `times`
  return { rounds, bytesPerRound: bytes, ms: { p50, p90: ms(quantile(times, 0.9)), p99, max } };
}
