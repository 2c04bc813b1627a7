/**
 * `BENCH_PROFILE=cpu|heap` (with `BENCH_PROFILE_DIR`, default the working directory): the bridge's measured window of
 * each receiver phase is profiled through the inspector — a CPU profile (`.cpuprofile`, 100 µs samples) or a
 * sampling heap profile that keeps the objects GC already collected (`.heapprofile`: every allocation of the window,
 * not only what survived it). Both open in Chrome DevTools. Profiling slows the bridge: read shares, not rates.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export type ProfileKind = 'cpu' | 'heap';

export const PROFILE: ProfileKind | null =
  process.env.BENCH_PROFILE === 'cpu' || process.env.BENCH_PROFILE === 'heap' ? process.env.BENCH_PROFILE : null;

/** Starts a profile of this process; `stop` writes it to `<BENCH_PROFILE_DIR>/<name>.<kind>profile`. */
export async function startProfile(kind: ProfileKind, name: string): Promise<{ stop(): Promise<string> }> {
  const session = new Session();
  session.connect();
  if (kind === 'cpu') {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  } else {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  return {
    async stop() {
      const { profile } = kind === 'cpu' ? await session.post('Profiler.stop') : await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      const file = join(process.env.BENCH_PROFILE_DIR ?? '.', `${name}.${kind}profile`);
      await writeFile(file, JSON.stringify(profile));
      return file;
    },
  };
}
