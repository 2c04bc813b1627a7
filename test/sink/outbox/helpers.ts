/**
 * Shared pieces of the outbox tests: a real `Sink` implementation that records what it is given and can be told
 * to fail, slow down or refuse (no network involved), event builders and temporary directories.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OutboxConfig } from '../../../src/config/types.js';
import { createLogger, type Logger } from '../../../src/log.js';
import { defaultFileOps, type JournalFileOps } from '../../../src/sink/outbox/journal.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../../../src/sink/types.js';

export const silentLogger: Logger = createLogger({ level: 'silent' });

/** A logger whose JSON lines are kept in `lines` (to check what recovery logs). */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = {
    write(chunk: string) {
      lines.push(JSON.parse(chunk) as Record<string, unknown>);
      return true;
    },
  };
  return { logger: createLogger({ level: 'debug', destination: destination as unknown as NodeJS.WritableStream }), lines };
}

export function makeEvent(account: string, n: number, extra: Record<string, unknown> = {}): OutgoingEvent {
  return {
    account,
    body: {
      version: '1.0',
      location_id: `LOC-${account}`,
      camera_id: `CAM-${account}-${n % 8}`,
      event_id: `evt-${account}-${n}`,
      event_type: 'alarm',
      event_status: 'active',
      event_time: new Date(Date.UTC(2026, 0, 15, 10, 0, 0) + n * 1000).toISOString(),
      sent_at: '',
      should_signal_to_monitoring_center: true,
      upload_snapshot_count: 0,
      upload_short_mp4: false,
      upload_event_mp4: false,
      payload: { protocol: 'sia', code: 'BA', zone: String(n % 64), account, sequence: n, ...extra },
    },
  };
}

export function outboxConfig(dir: string, overrides: Partial<OutboxConfig> = {}): OutboxConfig {
  return {
    dir,
    ackAfter: 'persisted',
    maxBytes: 1024 * 1024 * 1024,
    deliveredTimeoutSeconds: 10,
    maxAgeHours: 72,
    ...overrides,
  };
}

export async function tempDir(prefix = 'outbox-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type Behaviour = (event: OutgoingEvent, attempt: number) => DeliveryOutcome | Promise<DeliveryOutcome>;

/** Records every attempt; `behaviour` decides each outcome (default: accepted). */
export class RecordingSink implements Sink {
  readonly name = 'recording';
  /** Events the sink accepted, in the order it accepted them. */
  readonly accepted: OutgoingEvent[] = [];
  readonly attempts: Array<{ id: string; account: string; at: number }> = [];
  private readonly perId = new Map<string, number>();
  behaviour: Behaviour = () => ({ kind: 'accepted' });
  /** Milliseconds each delivery takes (called per attempt). */
  delay: (() => number) | null = null;
  inFlight = 0;
  maxInFlight = 0;
  private watchers: Array<{ count: number; resolve: () => void }> = [];
  firstAttemptAt: number | null = null;

  async deliver(event: OutgoingEvent): Promise<DeliveryOutcome> {
    const now = performance.now();
    this.firstAttemptAt ??= now;
    this.attempts.push({ id: event.body.event_id, account: event.account, at: now });
    const attempt = (this.perId.get(event.body.event_id) ?? 0) + 1;
    this.perId.set(event.body.event_id, attempt);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const ms = this.delay?.() ?? 0;
      if (ms > 0) await sleep(ms);
      const outcome = await this.behaviour(event, attempt);
      if (outcome.kind === 'accepted') {
        this.accepted.push(event);
        this.watchers = this.watchers.filter((w) => {
          if (this.accepted.length < w.count) return true;
          w.resolve();
          return false;
        });
      }
      return outcome;
    } finally {
      this.inFlight--;
    }
  }

  /** Resolves once `count` events were accepted (rejects after `timeoutMs`). */
  waitForAccepted(count: number, timeoutMs = 15_000): Promise<void> {
    if (this.accepted.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.accepted.length} of ${count} events accepted after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.watchers.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {}
}

/** Polls `check` until it is true (rejects after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Journal file operations whose writes fail with ENOSPC while `disk.full` is set (a full disk, switchable). */
export function fullDiskFileOps(): { fileOps: JournalFileOps; disk: { full: boolean } } {
  const disk = { full: false };
  const fileOps: JournalFileOps = {
    async write(fh, data, position) {
      if (disk.full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      await defaultFileOps.write(fh, data, position);
    },
    sync: defaultFileOps.sync,
  };
  return { fileOps, disk };
}

/** Journal file operations that count fsyncs (to see group commit at work). */
export function countingFileOps(): { fileOps: JournalFileOps; fsyncs: () => number } {
  let fsyncs = 0;
  const fileOps: JournalFileOps = {
    write: defaultFileOps.write,
    sync: async (fh) => {
      fsyncs++;
      await defaultFileOps.sync(fh);
    },
  };
  return { fileOps, fsyncs: () => fsyncs };
}
