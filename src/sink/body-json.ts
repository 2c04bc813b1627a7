/**
 * The Partner Event body as sent (docs/partner-event-api.md §2): its JSON text with `sent_at` set to the time of
 * sending. When the outbox has already serialised the body for its journal record (`OutgoingEvent.bodyJson`), only
 * `sent_at` is replaced in that text instead of serialising the whole body a second time (docs/performance.md §3).
 */
import type { OutgoingEvent, PartnerEvent } from './types.js';

const SENT_AT_KEY = '"sent_at":';

/**
 * `text` (a body's JSON) with the top-level `sent_at` value `from` replaced by `to`; null when that cannot be done
 * safely. Inside a JSON string every `"` is escaped, so `"sent_at":` unescaped is a key; it is the top-level one
 * when no object was opened before it (the body lists `sent_at` before `payload`, its only nested object).
 */
export function replaceSentAt(text: string, from: string, to: string): string | null {
  const at = text.indexOf(SENT_AT_KEY);
  if (at < 0 || text.lastIndexOf('{', at) !== 0) return null;
  const start = at + SENT_AT_KEY.length;
  const old = JSON.stringify(from);
  if (!text.startsWith(old, start)) return null;
  return text.slice(0, start) + JSON.stringify(to) + text.slice(start + old.length);
}

/** The body serialised with `sent_at` swapped in place for the call (same key order, no copy of the body). */
export function stringifyWithSentAt(body: PartnerEvent, sentAt: string): string {
  const stored = body.sent_at;
  body.sent_at = sentAt;
  try {
    return JSON.stringify(body);
  } finally {
    body.sent_at = stored;
  }
}

/** The event's body as JSON text with `sent_at` = `sentAt`, from `bodyJson` when the event carries it. */
export function bodyJsonAt(event: OutgoingEvent, sentAt: string): string {
  if (event.bodyJson !== undefined) {
    const text = replaceSentAt(event.bodyJson, event.body.sent_at, sentAt);
    if (text !== null) return text;
  }
  return stringifyWithSentAt(event.body, sentAt);
}
