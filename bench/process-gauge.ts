/**
 * What one process spent during a bench phase: CPU, event-loop busy share, bytes allocated on the V8 heap and GC
 * pauses. Runs inside the measured process (the bridge's, or the ACK-limit child's).
 * Allocation: V8 keeps no running total, so it is the heap freed by every GC in the window (v8.GCProfiler's
 * before/after sizes) plus the growth of the used heap between start and stop.
 */
import { monitorEventLoopDelay, PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';

export interface ProcessFigures {
  cpuPercent: number;
  /** CPU time of the whole process (every thread: the event loop, the thread pool's fs work, GC helpers), user + system. */
  cpuMicros: number;
  loopBusyPercent: number;
  allocatedBytes: number;
  gcCount: number;
  gcPauseMs: { p50: number; p99: number; max: number; total: number };
  /** GC pauses by kind (minor: scavenges; major: mark-compact). */
  gcPausesByKind: Record<string, { count: number; p50: number; p99: number; max: number }>;
  /** How late the event loop ran a 10 ms timer: the stalls a frame could meet inside this process. */
  loopDelayMs: { p50: number; p99: number; max: number };
}

export interface ProcessGauge {
  stop(): ProcessFigures;
}

/** The value at quantile `q` of ascending `sorted` (0 when empty). */
export function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Milliseconds rounded to the microsecond. */
export const ms = (value: number) => Math.round(value * 1000) / 1000;

/** perf_hooks' `gc` entry kinds (`detail.kind`): scavenges are minor, mark-compact major. */
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakCallbacks' };

const DELAY_RESOLUTION_MS = 10;
/** The histogram holds the timer's whole interval: what exceeds the resolution is the lateness. */
const lateness = (nanos: number) => ms(Math.max(0, nanos / 1e6 - DELAY_RESOLUTION_MS));

/** p50, p99 and max of durations in milliseconds (sorts `values`). */
export function spread(values: number[]): { p50: number; p99: number; max: number } {
  values.sort((a, b) => a - b);
  return { p50: ms(quantile(values, 0.5)), p99: ms(quantile(values, 0.99)), max: ms(values.at(-1) ?? 0) };
}

export function startProcessGauge(): ProcessGauge {
  const pauses: number[] = [];
  const byKind = new Map<string, number[]>();
  const record = (entry: PerformanceEntry) => {
    pauses.push(entry.duration);
    const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    let list = byKind.get(kind);
    if (!list) byKind.set(kind, (list = []));
    list.push(entry.duration);
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) record(entry);
  });
  observer.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  delay.enable();
  const profiler = new GCProfiler();
  profiler.start();
  const heapBefore = getHeapStatistics().used_heap_size;
  const cpuBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const wallBefore = performance.now();
  return {
    stop() {
      const cpu = process.cpuUsage(cpuBefore);
      const loop = performance.eventLoopUtilization(loopBefore);
      const wallMs = performance.now() - wallBefore;
      const heapAfter = getHeapStatistics().used_heap_size;
      const result = profiler.stop();
      delay.disable();
      observer.takeRecords().forEach(record);
      observer.disconnect();
      let freed = 0;
      for (const gc of result?.statistics ?? [])
        freed += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize);
      return {
        cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
        cpuMicros: cpu.user + cpu.system,
        loopBusyPercent: Math.round(loop.utilization * 100),
        allocatedBytes: Math.max(0, freed + heapAfter - heapBefore),
        gcCount: pauses.length,
        gcPauseMs: { ...spread(pauses), total: ms(pauses.reduce((a, b) => a + b, 0)) },
        gcPausesByKind: Object.fromEntries([...byKind].map(([kind, list]) => [kind, { count: list.length, ...spread(list) }])),
        loopDelayMs: {
          p50: lateness(delay.percentile(50)),
          p99: lateness(delay.percentile(99)),
          max: lateness(delay.max),
        },
      };
    },
  };
}
