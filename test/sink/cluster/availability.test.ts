/** One warning when the events stream stops storing, reminders at most once a minute, one line on recovery. */
import { describe, expect, it } from 'vitest';
import { StoreAvailability } from '../../../src/sink/cluster/availability.js';
import { capturingLogger } from '../outbox/helpers.js';

describe('store availability', () => {
  it('warns once naming the servers (without their credentials), reminds once a minute, logs the recovery once', () => {
    const { logger, lines } = capturingLogger();
    let now = 0;
    const availability = new StoreAvailability(
      logger,
      ['nats://bridge:url-secret@10.0.0.1:4222', 'nats://10.0.0.2:4222'],
      60_000,
      () => now,
    );
    expect(availability.unavailable).toBeNull();
    availability.stored();
    expect(lines).toHaveLength(0);

    for (let i = 0; i < 50; i++) {
      now += 1000;
      availability.refused('no acknowledgement within 5 s');
    }
    expect(availability.unavailable).toBe('no acknowledgement within 5 s');
    const warnings = lines.filter((l) => l['level'] === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'],
      problem: 'no acknowledgement within 5 s',
    });

    now += 20_000;
    availability.refused('NATS disconnected');
    expect(lines.filter((l) => l['level'] === 40)).toHaveLength(2);
    expect(lines.at(-1)).toMatchObject({ refusedFrames: 51, downSeconds: 69, problem: 'NATS disconnected' });

    now += 5000;
    availability.stored();
    availability.stored();
    const recoveries = lines.filter((l) => l['level'] === 30);
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]).toMatchObject({ refusedFrames: 51, downSeconds: 74, msg: expect.stringContaining('stores events again') });
    expect(availability.unavailable).toBeNull();
    expect(JSON.stringify(lines)).not.toContain('url-secret');

    // A new outage warns again at once.
    availability.refused('NATS disconnected');
    expect(lines.filter((l) => l['level'] === 40)).toHaveLength(3);
  });
});
