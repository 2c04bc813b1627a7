/**
 * A backlog for the outbox bench variant (issue 17): the outbox directory is filled with undelivered events before
 * the bridge starts, so the bridge drains them to its sink while the panels' frames are measured.
 */
import { readFileSync } from 'node:fs';
import type { OutboxConfig } from '../src/config/types.js';
import { openOutbox } from '../src/sink/outbox/index.js';
import type { OutgoingEvent } from '../src/sink/types.js';
import { ACCOUNT_PREFIX, benchLogger } from './setup.js';

export const BACKLOG_EVENTS = 50_000;
const APPEND_BATCH = 500;

/** A real event body (a fixture's golden Partner Event API body): the template of every backlog event. */
const TEMPLATE = JSON.parse(
  readFileSync(new URL('../../fixtures/captures/ajax.expected.ndjson', import.meta.url), 'utf8').split('\n')[0]!,
) as OutgoingEvent['body'];

/** Journals `count` distinct events spread over `accounts` accounts, without delivering them (`start: false`). */
export async function fillBacklog(config: OutboxConfig, logFile: string, accounts: number, count = BACKLOG_EVENTS): Promise<void> {
  const outbox = await openOutbox(config, { logger: benchLogger(logFile, 'warn'), start: false });
  try {
    for (let done = 0; done < count; done += APPEND_BATCH) {
      const batch: OutgoingEvent[] = [];
      for (let i = done; i < Math.min(count, done + APPEND_BATCH); i++) {
        const account = `${ACCOUNT_PREFIX}${String((i % accounts) + 1).padStart(4, '0')}`;
        batch.push({ account, body: { ...TEMPLATE, event_id: `backlog-${i}` } });
      }
      await outbox.append(batch);
    }
  } finally {
    await outbox.close();
  }
}
