/**
 * A Partner Event API stand-in on loopback for delivery tests: a real HTTP server that answers 503 to the events of
 * the accounts it is told are failing and accepts the others, remembering when each event arrived.
 */
import { createServer, type ServerResponse } from 'node:http';
import { createLogger } from '../../src/log.js';
import { createPartnerApiSink, type PartnerApiSink } from '../../src/sink/partner-api/sink.js';
import { listenLoopback, makeEvent } from './partner-api/harness.js';
import type { DurableLog } from '../../src/sink/durable-log.js';
import type { OutgoingEvent } from '../../src/sink/types.js';
import { until } from '../e2e/api-harness.js';

export interface FailingApi {
  sink: PartnerApiSink;
  /** Event ids the API accepted, with the time (ms) each arrived. */
  accepted: Map<string, number>;
  /** POSTs answered 503, per account. */
  refused: Map<string, number>;
  /** Every POST's event id, in arrival order. */
  posts: string[];
  /** POSTs of an event id whose earlier POST was still unanswered. */
  overlaps: number;
  /** POSTs not answered yet. */
  unanswered: number;
  close(): Promise<void>;
}

/** An event of `account`; the account travels in `location_id`, which is all the server looks at. */
export function accountEvent(account: string, n: number): OutgoingEvent {
  return makeEvent(n, { event_id: `evt-${account}-${n}`, location_id: account }, { account });
}

/** `delayMs`: how long each POST waits for its answer. */
export async function startFailingApi(failing: ReadonlySet<string>, delayMs = 0): Promise<FailingApi> {
  const accepted = new Map<string, number>();
  const refused = new Map<string, number>();
  const unansweredIds = new Set<string>();
  const state = { posts: [] as string[], overlaps: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event_id: string; location_id: string };
      state.posts.push(body.event_id);
      if (unansweredIds.has(body.event_id)) state.overlaps++;
      unansweredIds.add(body.event_id);
      res.on('finish', () => unansweredIds.delete(body.event_id));
      if (delayMs > 0) setTimeout(() => answer(body, res), delayMs);
      else answer(body, res);
    });
  });
  const answer = (body: { event_id: string; location_id: string }, res: ServerResponse) => {
    if (failing.has(body.location_id)) {
      refused.set(body.location_id, (refused.get(body.location_id) ?? 0) + 1);
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"service_unavailable"}');
      return;
    }
    if (!accepted.has(body.event_id)) accepted.set(body.event_id, Date.now());
    res
      .writeHead(201, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'accepted', response_id: `r-${body.event_id}` }));
  };
  const { base, close } = await listenLoopback(server);
  const sink = createPartnerApiSink(
    {
      type: 'partner-api',
      baseUrl: base,
      auth: { apiKey: 'test-api-key' },
      timeoutSeconds: 5,
      connections: 8,
      maxRetryAgeSeconds: 3600,
      maxQueuedEvents: 100_000,
    },
    { logger: createLogger({ level: 'silent' }) },
  );
  return {
    sink,
    accepted,
    refused,
    posts: state.posts,
    get overlaps() {
      return state.overlaps;
    },
    get unanswered() {
      return unansweredIds.size;
    },
    async close() {
      await sink.close();
      await close();
    },
  };
}

/** The eight accounts whose events keep getting 503 in the isolation tests. */
export const FAILING_ACCOUNTS = Array.from({ length: 8 }, (_, i) => `BAD-${i + 1}`);

/**
 * Appends two events for each failing account, waits until the API refused each account twice (their deliveries
 * are in their backoffs), then appends another account's event: resolves with how long after `append` it arrived.
 */
export async function otherAccountDelayMs(api: FailingApi, log: DurableLog): Promise<number> {
  for (const account of FAILING_ACCOUNTS) await log.append([accountEvent(account, 1), accountEvent(account, 2)]);
  await until(() => FAILING_ACCOUNTS.every((a) => (api.refused.get(a) ?? 0) >= 2));
  await log.append([accountEvent('GOOD', 1)]);
  const sent = Date.now(); // from the ACK on: the outbox's fsync is not delivery

  await until(() => api.accepted.has('evt-GOOD-1'), 5_000);
  return api.accepted.get('evt-GOOD-1')! - sent;
}
