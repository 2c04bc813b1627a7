/**
 * A sink that appends each Partner Event API request body to a file, one JSON object per line (NDJSON).
 * Useful for dry runs and for feeding other tools; `sent_at` is the time the line was written.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isoClock } from '../iso-time.js';
import { bodyJsonAt } from './body-json.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from './types.js';

export interface FileSinkOptions {
  /** Clock for `sent_at` (tests). */
  now?: () => Date;
}

export function createFileSink(path: string, options: FileSinkOptions = {}): Sink {
  const now = options.now;
  const clock = isoClock();
  let fd: number | null = null;
  /** Lines of the current turn of the event loop; written together by one write (group write), in call order. */
  let pending: { line: string; done: (outcome: DeliveryOutcome) => void }[] = [];
  let scheduled = false;
  let closed = false;

  // The file sink's durability point is the write itself (no fsync: page cache, like any log file). A synchronous
  // write of one batch costs less than a thread-pool round trip per line and keeps lines in order.
  function flush(): void {
    scheduled = false;
    const batch = pending;
    if (batch.length === 0) return;
    pending = [];
    let outcome: DeliveryOutcome = { kind: 'accepted' };
    try {
      if (fd === null) {
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(path, 'a');
      }
      const data = Buffer.from(batch.length === 1 ? batch[0]!.line : batch.map((p) => p.line).join(''), 'utf8');
      let done = 0;
      try {
        // A short write (disk filling up) must not report lines that are not there as written.
        while (done < data.length) {
          const n = writeSync(fd, data, done, data.length - done);
          if (n <= 0) throw Object.assign(new Error('no progress writing the file sink'), { code: 'ENOSPC' });
          done += n;
        }
      } catch (err) {
        // No torn line for the next batch to glue onto: what this batch wrote is the file's tail (appended), so it
        // is cut from the size the file has now (no size read before every batch; docs/performance.md §3).
        if (done > 0) ftruncateSync(fd, fstatSync(fd).size - done);
        throw err;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
      outcome = { kind: 'retry', reason: `file sink write failed: ${code}` };
      if (fd !== null) {
        closeSync(fd);
        fd = null; // reopened by the next write
      }
    }
    for (const p of batch) p.done(outcome);
  }

  return {
    name: 'file',
    deliver(event: OutgoingEvent): Promise<DeliveryOutcome> {
      if (closed) return Promise.resolve({ kind: 'retry', reason: 'file sink is closed' });
      const line = `${bodyJsonAt(event, now ? now().toISOString() : clock())}\n`;
      return new Promise((done) => {
        pending.push({ line, done });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (pending.length > 0) flush();
      if (fd !== null) {
        fdatasyncSync(fd);
        closeSync(fd);
        fd = null;
      }
    },
  };
}
