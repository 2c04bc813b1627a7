/**
 * The duplicate filter over many windows (docs/performance.md §3): distinct timestamped frames on a simulated clock,
 * the default 120 s window and key cap, timed in consecutive slices. At 500 frames/s the window fills after 60,000
 * frames and stays full (every frame expires one); at 1,000 frames/s and more the cap (100,000) is reached first
 * (every frame forgets the oldest). The per-frame cost of the later slices, with the window or the cap full, should match the first's.
 */
import { DuplicateFilter, MAX_DUPLICATE_KEYS, type AcceptResult } from '../src/server/pipeline/duplicates.js';
import { round } from './setup.js';

export interface DuplicateSlice {
  framesSoFar: number;
  remembered: number;
  microsPerFrame: number;
}

export interface DuplicateFigures {
  windowSeconds: number;
  maxKeys: number;
  /** One frame per 2 ms: the window is full from frame 60,000 on, and each frame expires one. */
  at500FramesPerSecond: DuplicateSlice[];
  /** One frame per 0.1 ms: the cap is reached at frame 100,000, and each frame forgets the oldest. */
  at10000FramesPerSecond: DuplicateSlice[];
}

const WINDOW_MS = 120_000;
const accepted = Promise.resolve<AcceptResult>('accepted');
const accept = () => accepted;

async function slices(framesPerSecond: number, total: number, sliceFrames: number): Promise<DuplicateSlice[]> {
  const filter = new DuplicateFilter({ windowMs: () => WINDOW_MS });
  const start = Date.UTC(2026, 11, 2);
  const timestamp = new Date(start);
  const out: DuplicateSlice[] = [];
  for (let done = 0; done < total; done += sliceFrames) {
    const begin = process.hrtime.bigint();
    for (let i = done; i < done + sliceFrames; i++) {
      const data = `#SIM${(i % 1000).toString().padStart(4, '0')}|Nri1/BA${i}`;
      await filter.filter(
        { account: 'SIM0001', data, timestamp, receivedAt: new Date(start + (i * 1000) / framesPerSecond) },
        'SIA-DCS',
        accept,
      );
    }
    const micros = Number(process.hrtime.bigint() - begin) / 1000;
    out.push({ framesSoFar: done + sliceFrames, remembered: filter.size, microsPerFrame: round(micros / sliceFrames, 2) });
  }
  return out;
}

export async function benchDuplicates(quick: boolean): Promise<DuplicateFigures> {
  const total = quick ? 200_000 : 400_000;
  return {
    windowSeconds: WINDOW_MS / 1000,
    maxKeys: MAX_DUPLICATE_KEYS,
    at500FramesPerSecond: await slices(500, total, 50_000),
    at10000FramesPerSecond: await slices(10_000, total, 50_000),
  };
}
