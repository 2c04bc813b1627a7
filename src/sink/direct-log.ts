/**
 * The file sink used as the log itself: each event is handed straight to the sink and waited for, the sink's write
 * being the durability point. Anything but accepted/discarded is a refusal (→ NAK). Nothing is queued.
 */
import { RefusalError, type DurableLog } from './durable-log.js';
import type { Sink } from './types.js';

export function directLog(sink: Sink): DurableLog {
  let inFlight = 0;
  let closed = false;
  return {
    async append(events) {
      if (closed) throw new RefusalError('closed', `sink ${sink.name} is closed`);
      inFlight++;
      try {
        for (const event of events) {
          const outcome = await sink.deliver(event);
          if (outcome.kind !== 'accepted' && outcome.kind !== 'discarded') {
            throw new RefusalError(
              'write-failed',
              `sink ${sink.name} did not take event ${event.body.event_id}: ${outcome.kind} (${'reason' in outcome ? outcome.reason : ''})`,
            );
          }
        }
      } finally {
        inFlight--;
      }
    },
    status: () => ({ depth: 0, oldestAgeSeconds: 0, state: closed ? 'closed' : 'running', inFlight }),
    async close() {
      closed = true;
    },
  };
}
