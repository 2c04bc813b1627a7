/** A pending event as the outbox keeps it: journal position and scheduling fields, attempt state on first use. */
import { describe, expect, it } from 'vitest';
import { Entry } from '../../../src/sink/outbox/entry.js';
import { makeEvent } from './helpers.js';

describe('Entry', () => {
  it('a recovered event: its position and scheduling fields, no id, no attempt state', () => {
    const entry = new Entry(7, '1234', 1_700_000_000_123, 3, 4096, 600);
    expect({
      seq: entry.seq,
      account: entry.account,
      acceptedAt: entry.acceptedAt,
      home: entry.home,
      at: entry.at,
      size: entry.size,
    }).toEqual({
      seq: 7,
      account: '1234',
      acceptedAt: 1_700_000_000_123,
      home: 3,
      at: 4096,
      size: 600,
    });
    expect({ id: entry.id, fresh: entry.fresh, attempts: entry.attempts, lastReason: entry.lastReason, onFinal: entry.onFinal }).toEqual({
      id: null,
      fresh: null,
      attempts: 0,
      lastReason: null,
      onFinal: null,
    });
    // Clearing what was never set changes nothing.
    entry.fresh = null;
    entry.lastReason = null;
    entry.onFinal = null;
    entry.id = null;
    expect(entry.attempts).toBe(0);
  });

  it('keeps the attempt state once set: id (given or read back), the fresh event, attempts, the last failure, a waiter', () => {
    const event = makeEvent('1234', 1);
    const entry = new Entry(1, '1234', 0, 1, 8, 500, 'evt-1234-1');
    expect(entry.id).toBe('evt-1234-1');
    entry.fresh = event;
    entry.attempts++;
    entry.lastReason = 'HTTP 503';
    const onFinal = () => undefined;
    entry.onFinal = onFinal;
    expect({ fresh: entry.fresh, attempts: entry.attempts, lastReason: entry.lastReason, onFinal: entry.onFinal }).toEqual({
      fresh: event,
      attempts: 1,
      lastReason: 'HTTP 503',
      onFinal,
    });
    entry.fresh = null;
    entry.onFinal = null;
    expect([entry.fresh, entry.onFinal, entry.attempts]).toEqual([null, null, 1]);

    const recovered = new Entry(2, '1234', 0, 1, 508, 500);
    recovered.id = 'evt-1234-2';
    expect(recovered.id).toBe('evt-1234-2');
  });
});
