/**
 * The disk's own durable-write round (docs/performance.md §9): 1 KiB appended to a scratch file and `fdatasync`ed,
 * one round after the other, through the same `fs/promises` calls as the outbox journal's group commit. The
 * outbox's open-loop latency cannot beat this round (a frame that arrives while a round runs waits for it and then
 * for its own), and it moves with the host from one minute to the next, so the journal phases print it, measured
 * just before each phase on the file system the outbox writes to.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskSyncFigures {
  rounds: number;
  bytesPerRound: number;
  /** One write + fdatasync round, in milliseconds. */
  ms: { p50: number; p90: number; p99: number; max: number };
}

const ms = (value: number) => Math.round(value * 1000) / 1000;

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
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
      await handle.write(data, 0, bytes, i * bytes);
      await handle.datasync();
      times.push(performance.now() - start);
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  times.sort((a, b) => a - b);
  return {
    rounds,
    bytesPerRound: bytes,
    ms: { p50: ms(quantile(times, 0.5)), p90: ms(quantile(times, 0.9)), p99: ms(quantile(times, 0.99)), max: ms(times.at(-1) ?? 0) },
  };
}
