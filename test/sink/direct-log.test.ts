/** The file sink as the log itself: append waits for the sink's write; anything else is a refusal (→ NAK). */
import { describe, expect, it } from 'vitest';
import { directLog } from '../../src/sink/direct-log.js';
import { RefusalError } from '../../src/sink/durable-log.js';
import type { OutgoingEvent, Sink } from '../../src/sink/types.js';

const event = (n: number): OutgoingEvent => ({ account: 'A', body: { event_id: `A-${n}` } as OutgoingEvent['body'] });

describe('directLog', () => {
  it('rejects (→ NAK) when the sink does not take the event', async () => {
    const refusing: Sink = {
      name: 'refusing',
      deliver: async () => ({ kind: 'retry', reason: 'disk full' }),
      close: async () => undefined,
    };
    await expect(directLog(refusing).append([event(1)])).rejects.toThrow(/did not take/);
    const err = await directLog(refusing)
      .append([event(1)])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusalError);
    expect(err).toMatchObject({ refusal: 'write-failed', stored: false });
  });

  it('resolves once the sink took every event, in order; refuses after close', async () => {
    const written: string[] = [];
    const sink: Sink = {
      name: 'list',
      deliver: async (e) => (written.push(e.body.event_id), { kind: 'accepted' }),
      close: async () => undefined,
    };
    const log = directLog(sink);
    await log.append([event(1), event(2)]);
    expect(written).toEqual(['A-1', 'A-2']);
    expect(log.status()).toEqual({ depth: 0, oldestAgeSeconds: 0, state: 'running', inFlight: 0 });
    await log.close();
    expect(log.status().state).toBe('closed');
    await expect(log.append([event(3)])).rejects.toMatchObject({ refusal: 'closed' });
  });
});
