/**
 * A sink that appends each Partner Event API request body to a file, one JSON object per line (NDJSON).
 * Useful for dry runs and for feeding other tools; `sent_at` is the time the line was written.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeliveryOutcome, OutgoingEvent, Sink } from './types.js';

export interface FileSinkOptions {
  /** Clock for `sent_at` (tests). */
  now?: () => Date;
}

export function createFileSink(path: string, options: FileSinkOptions = {}): Sink {
  const now = options.now ?? (() => new Date());
  let handle: Promise<FileHandle> | null = null;
  /** Every write chains onto this, so lines never interleave and keep their call order. */
  let tail: Promise<unknown> = Promise.resolve();
  let closing: Promise<void> | null = null;

  function file(): Promise<FileHandle> {
    if (!handle) {
      handle = mkdir(dirname(path), { recursive: true }).then(() => open(path, 'a'));
      // A failed open is retried by the next write instead of poisoning the sink.
      handle.catch(() => {
        handle = null;
      });
    }
    return handle;
  }

  async function write(event: OutgoingEvent): Promise<DeliveryOutcome> {
    const line = `${JSON.stringify({ ...event.body, sent_at: now().toISOString() })}\n`;
    try {
      const fh = await file();
      await fh.appendFile(line, 'utf8');
      return { kind: 'accepted' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
      return { kind: 'retry', reason: `file sink write failed: ${code}` };
    }
  }

  return {
    name: 'file',
    deliver(event: OutgoingEvent): Promise<DeliveryOutcome> {
      if (closing) return Promise.resolve({ kind: 'retry', reason: 'file sink is closed' });
      const result = tail.then(() => write(event));
      tail = result;
      return result;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        await tail;
        const fh = handle ? await handle.catch(() => null) : null;
        handle = null;
        if (!fh) return;
        try {
          await fh.datasync();
        } finally {
          await fh.close();
        }
      })();
      return closing;
    },
  };
}
