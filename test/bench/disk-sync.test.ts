/**
 * The bench's disk round (bench/disk-sync.ts): real files in a temp dir. Only the shape is checked; how long a round
 * takes is the bench's business, not a test's.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { measureDiskSync } from '../../bench/disk-sync.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('measureDiskSync', () => {
  it('times each write + fdatasync round, in order of size, and leaves no scratch file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'disk-sync-'));
    dirs.push(dir);
    const figures = await measureDiskSync(dir, 20, 512);
    expect(figures.rounds).toBe(20);
    expect(figures.bytesPerRound).toBe(512);
    const { p50, p90, p99, max } = figures.ms;
    expect(p50).toBeGreaterThan(0);
    expect([p50, p90, p99, max]).toEqual([p50, p90, p99, max].sort((x, y) => x - y));
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects when the directory is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'disk-sync-'));
    dirs.push(dir);
    await expect(measureDiskSync(join(dir, 'missing'), 5)).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
