/**
 * What one process spent during a bench phase: CPU, event-loop busy share, bytes allocated on the V8 heap and GC
 * pauses. Runs inside the measured process (the bridge's, or the ACK-limit child's).
 * Allocation: V8 keeps no running total, so it is the heap freed by every GC in the window (v8.GCProfiler's
 * before/after sizes) plus the growth of the used heap between start and stop.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';

export interface ProcessFigures {
  cpuPercent: number;
  /** CPU time of the whole process (every thread: the event loop, the thread pool's fs work, GC helpers), user + system. */
  cpuMicros: number;
  loopBusyPercent: number;
  allocatedBytes: number;
  gcCount: number;
  gcPauseMs: { p50: number; p99: number; max: number; total: number };
}

export interface ProcessGauge {
  stop(): ProcessFigures;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const ms = (value: number) => Math.round(value * 1000) / 1000;

export function startProcessGauge(): ProcessGauge {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
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
      observer.takeRecords().forEach((entry) => pauses.push(entry.duration));
      observer.disconnect();
      let freed = 0;
      for (const gc of result?.statistics ?? [])
        freed += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize);
      pauses.sort((a, b) => a - b);
      return {
        cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
        cpuMicros: cpu.user + cpu.system,
        loopBusyPercent: Math.round(loop.utilization * 100),
        allocatedBytes: Math.max(0, freed + heapAfter - heapBefore),
        gcCount: pauses.length,
        gcPauseMs: {
          p50: ms(quantile(pauses, 0.5)),
          p99: ms(quantile(pauses, 0.99)),
          max: ms(pauses.at(-1) ?? 0),
          total: ms(pauses.reduce((a, b) => a + b, 0)),
        },
      };
    },
  };
}
