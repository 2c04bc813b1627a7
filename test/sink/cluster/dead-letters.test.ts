/** Dead letters in the `<stream>_DEAD` stream, against a real nats-server (docs/cluster.md §6). */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterRuntime } from '../../../src/sink/cluster/cluster-log.js';
import { ClusterDeadLetters, retryMessageId, type Requeue } from '../../../src/sink/cluster/dead-letters.js';
import type { DeadLetter } from '../../../src/sink/outbox/dead-letters.js';
import { accountEvent } from '../failing-api.js';
import { silentLogger } from '../outbox/helpers.js';
import { clusterConfig, natsForFile, openRuntime } from './helpers.js';
import type { OutgoingEvent } from '../../../src/sink/types.js';
import { encodeEventMessage } from '../../../src/sink/cluster/event-message.js';

/** An event as the cluster log stores it (docs/cluster.md §3). */
const stored = (event: OutgoingEvent) => encodeEventMessage(event, new Date().toISOString(), {});

const nats = natsForFile();
let opened: ClusterRuntime[] = [];
let streamNo = 0;
afterEach(async () => {
  await Promise.allSettled(opened.map((r) => r.connection.close()));
  opened = [];
});

async function deadLetters(): Promise<{ runtime: ClusterRuntime; dead: ClusterDeadLetters }> {
  const runtime = await openRuntime(clusterConfig(nats().urls, 'bridge-a', `DEAD_${++streamNo}`));
  opened.push(runtime);
  return { runtime, dead: new ClusterDeadLetters(runtime.connection, runtime.stores.names, silentLogger) };
}

const letter = (account: string, n: number, reason = 'permanent'): DeadLetter => ({
  id: `evt-${account}-${n}`,
  account,
  reason,
  deadAt: '2026-01-01T00:00:00.000Z',
  event: accountEvent(account, n),
});

/** A requeue that publishes to the events stream as the cluster log does, remembering what it published. */
function publishing(runtime: ClusterRuntime): { requeue: Requeue; published: string[] } {
  const published: string[] = [];
  return {
    published,
    requeue: async (events) => {
      for (const { event, msgID } of events) {
        const ack = await runtime.connection.js.publish(runtime.stores.names.eventSubject(event.account), stored(event), { msgID });
        if (!ack.duplicate) published.push(event.body.event_id);
      }
    },
  };
}

describe('cluster dead letters', () => {
  it('stores letters on the dead subject of their account and reads them back in order, the stream sequence as handle', async () => {
    const { runtime, dead } = await deadLetters();
    await dead.append([letter('A', 1)]);
    await dead.append([letter('B', 1, 'max-age')]);
    const letters = await dead.readAll();
    expect(letters.map((l) => [l.id, l.reason, l.line])).toEqual([
      ['evt-A-1', 'permanent', 1],
      ['evt-B-1', 'max-age', 2],
    ]);
    expect(letters[0]!.event).toEqual(accountEvent('A', 1));
    const stored = await runtime.connection.jsm.streams.getMessage(runtime.stores.names.dead, { seq: 1 });
    expect(stored!.subject).toBe(runtime.stores.names.deadSubject('A'));
    expect(await dead.count()).toBe(2);
    expect(await dead.readAll(1)).toHaveLength(1);
  }, 20_000);

  it('keeps events that were not forwarded with the mapper reason and config key', async () => {
    const { dead } = await deadLetters();
    await dead.keepNotForwarded(
      [{ eventId: 'e-1', account: '5555', reason: 'unmapped-account', configKey: 'accounts["5555"].locationId', message: 'no location' }],
      '2026-01-01T00:00:00.000Z',
    );
    expect(await dead.readAll()).toEqual([
      expect.objectContaining({
        id: 'e-1',
        account: '5555',
        reason: 'unmapped-account',
        configKey: 'accounts["5555"].locationId',
        line: 1,
      }),
    ]);
  }, 20_000);

  it('lists a message that is not a letter as unreadable-line, and discard drops it with the chosen letters', async () => {
    const { runtime, dead } = await deadLetters();
    await dead.append([letter('A', 1), letter('B', 1)]);
    await runtime.connection.js.publish(runtime.stores.names.deadSubject('C'), 'not json');
    const all = await dead.readAll();
    expect(all[2]).toMatchObject({ reason: 'unreadable-line', line: 3 });
    expect((await dead.discard({ account: 'a' })).map((l) => l.id)).toEqual(['evt-A-1']);
    expect((await dead.discard({})).map((l) => l.reason)).toEqual(['permanent', 'unreadable-line']);
    expect(await dead.readAll()).toEqual([]);
  }, 20_000);

  it('retry re-publishes each chosen letter once with its event_id under a message id of its own, then removes it', async () => {
    const { runtime, dead } = await deadLetters();
    // The original publish within the duplicate window: the event_id alone would be dropped as a copy.
    await runtime.connection.js.publish(runtime.stores.names.eventSubject('A'), stored(accountEvent('A', 1)), { msgID: 'evt-A-1' });
    await dead.append([letter('A', 1), letter('A', 1), letter('B', 1)]);
    const { requeue, published } = publishing(runtime);
    const result = await dead.retry({ account: 'A' }, requeue);
    expect(result).toEqual({ requeued: ['evt-A-1'], skipped: [] });
    expect(published).toEqual(['evt-A-1']);
    expect((await dead.readAll()).map((l) => l.id)).toEqual(['evt-B-1']);
    expect(retryMessageId('evt-A-1', 1)).toBe('evt-A-1:retry:1');
    // A letter without an event and no remap result stays where it is.
    await dead.keepNotForwarded([{ eventId: 'e-2', account: 'C', reason: 'unmapped-camera' }], '2026-01-01T00:00:00.000Z');
    const again = await dead.retry({ account: 'C', remap: () => null }, requeue);
    expect(again.skipped.map((l) => l.id)).toEqual(['e-2']);
    expect(await dead.count()).toBe(2);
  }, 20_000);
});
