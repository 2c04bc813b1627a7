/**
 * Delivery figure (issue 5, "Benchmark"): the Partner API sink with JWT-assertion auth delivering events to the API
 * emulator (in a child process, so it does not share a core with the sink) at the default connection cap (8),
 * through the same in-memory per-account queue the bridge uses without an outbox → events/s, p50/p99 POST latency.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from '../src/cli/simulate.js';
import { TOKEN_PATH } from '../src/emulator/server.js';
import { openMemoryQueue } from '../src/sink/memory-queue.js';
import { createPartnerApiSink, type PartnerApiSinkConfig } from '../src/sink/partner-api/sink.js';
import type { OutgoingEvent, Sink } from '../src/sink/types.js';
import { startChild } from './child.js';
import { benchLogger, QUICK, round, withTempDir } from './setup.js';

export const DELIVERY_TARGET_EVENTS_PER_SECOND = 2_000;
const DEFAULT_CONNECTIONS = 8;

export interface DeliveryFigures {
  events: number;
  accounts: number;
  connections: number;
  auth: 'jwt-assertion (RS256)';
  seconds: number;
  accepted: number;
  otherOutcomes: number;
  receivedByEmulator: number;
  tokenRequests: number;
  eventsPerSecond: number;
  postLatencyMs: { p50: number; p99: number; max: number };
  target: string;
  meetsTarget: boolean;
}

interface EmulatorReady {
  type: 'ready';
  url: string;
  privateKeyPem: string;
  clientId: string;
  audience: string;
  assertionAudience: string;
}

/** A body like the mapper makes for an alarm (same fields, similar payload size). */
function eventFor(n: number, accounts: number): OutgoingEvent {
  const account = `SIM${String((n % accounts) + 1).padStart(4, '0')}`;
  const zone = (n % 96) + 1;
  const time = new Date(Date.UTC(2026, 0, 15, 10, 0, 0) + n * 1000).toISOString();
  return {
    account,
    body: {
      version: '1.0',
      location_id: `LOC-${account}`,
      recorder_id: `REC-${account}`,
      camera_id: `CAM-${account}-${zone}`,
      event_id: `bench-${account}-${n}`,
      event_type: 'alarm',
      event_status: 'active',
      event_time: time,
      sent_at: time,
      should_signal_to_monitoring_center: true,
      upload_snapshot_count: 0,
      upload_short_mp4: false,
      upload_event_mp4: false,
      payload: {
        protocol: 'SIA-DCS',
        account,
        code: 'BA',
        description: 'Burglary Alarm',
        zone,
        area: 1,
        receiver: 'dc09/tcp',
        peer: '192.0.2.10:50123',
        sequence: String(n % 10000).padStart(4, '0'),
        encrypted: true,
      },
    },
  };
}

export async function benchDelivery(): Promise<DeliveryFigures> {
  const total = QUICK ? 1_000 : 5_000;
  const accounts = 500;
  const emulator = startChild('./emulator-child.js');
  try {
    const ready = await emulator.next<EmulatorReady>('ready', 30_000);
    return await withTempDir('delivery', async (dir) => {
      const keyFile = join(dir, 'partner.key');
      await writeFile(keyFile, ready.privateKeyPem, { mode: 0o600 });
      const config: PartnerApiSinkConfig = {
        type: 'partner-api',
        baseUrl: ready.url,
        auth: {
          tokenUrl: `${ready.url}${TOKEN_PATH}`,
          audience: ready.audience,
          assertionAudience: ready.assertionAudience,
          clientId: ready.clientId,
          keyId: 'bench',
          privateKeyFile: keyFile,
          algorithm: 'RS256',
        },
        timeoutSeconds: 10,
        connections: DEFAULT_CONNECTIONS,
        maxRetryAgeSeconds: 60,
        maxQueuedEvents: 100_000,
      };
      const logger = benchLogger(join(dir, 'sink.log'));
      const sink = createPartnerApiSink(config, { logger });
      const histogram = new LatencyHistogram();
      let accepted = 0;
      let settled = 0;
      let allSettled!: () => void;
      const done = new Promise<void>((resolve) => (allSettled = resolve));
      /** Times every POST; an event is settled by its first outcome that is not a retry. */
      const timed: Sink = {
        name: sink.name,
        async deliver(event) {
          const started = performance.now();
          const outcome = await sink.deliver(event);
          histogram.record(performance.now() - started);
          if (outcome.kind === 'accepted') accepted++;
          if (outcome.kind !== 'retry' && ++settled === total) allSettled();
          return outcome;
        },
        close: () => sink.close(),
      };
      const queue = openMemoryQueue(timed, { logger, maxAgeMs: 60_000, concurrency: DEFAULT_CONNECTIONS });
      const events = Array.from({ length: total }, (_, n) => eventFor(n, accounts));
      const started = performance.now();
      await queue.append(events);
      await done;
      const seconds = (performance.now() - started) / 1000;
      await queue.close();
      await timed.close();
      emulator.send({ type: 'stats' });
      const stats = await emulator.next<{ type: 'stats'; events: number; tokenRequests: number }>('stats');
      const eventsPerSecond = Math.round(total / seconds);
      return {
        events: total,
        accounts,
        connections: DEFAULT_CONNECTIONS,
        auth: 'jwt-assertion (RS256)',
        seconds: round(seconds),
        accepted,
        otherOutcomes: settled - accepted,
        receivedByEmulator: stats.events,
        tokenRequests: stats.tokenRequests,
        eventsPerSecond,
        postLatencyMs: { p50: round(histogram.percentile(0.5)), p99: round(histogram.percentile(0.99)), max: round(histogram.max) },
        target: `>= ${DELIVERY_TARGET_EVENTS_PER_SECOND} events/s`,
        meetsTarget: accepted === total && eventsPerSecond >= DELIVERY_TARGET_EVENTS_PER_SECOND,
      };
    });
  } finally {
    emulator.send({ type: 'stop' });
    await emulator.exited();
  }
}
