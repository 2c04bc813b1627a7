/** The events an instance stored while delivering, handed to its own delivery (docs/cluster.md §5). */
import { describe, expect, it } from 'vitest';
import { OwnEvents } from '../../../src/sink/cluster/own-events.js';
import type { OutgoingEvent } from '../../../src/sink/types.js';

const event = (id: string) => ({ account: '1234', body: { event_id: id } }) as unknown as OutgoingEvent;

describe('OwnEvents', () => {
  it('hands over an event kept under its sequence once, and forgets every older one', () => {
    const own = new OwnEvents();
    own.keep(5, event('e5'));
    own.keep(6, event('e6'));
    own.keep(8, event('e8'));
    expect(own.take(6)?.body.event_id).toBe('e6');
    expect(own.size).toBe(1); // 5 was passed by the consumer: it will not be asked for
    expect(own.take(6)).toBeUndefined();
    expect(own.take(7)).toBeUndefined(); // another instance's message
    expect(own.take(8)?.body.event_id).toBe('e8');
    expect(own.size).toBe(0);
  });

  it('does not keep what the consumer already passed (its message came before the PubAck)', () => {
    const own = new OwnEvents();
    expect(own.take(10)).toBeUndefined();
    own.keep(10, event('e10'));
    own.keep(9, event('e9'));
    expect(own.size).toBe(0);
    own.keep(11, event('e11'));
    expect(own.take(11)?.body.event_id).toBe('e11');
  });

  it('an entry kept out of order is forgotten once the consumer passes it', () => {
    const own = new OwnEvents();
    own.keep(21, event('e21'));
    own.keep(20, event('e20'));
    own.keep(23, event('e23'));
    expect(own.take(22)).toBeUndefined();
    expect(own.size).toBe(1);
    expect(own.take(23)?.body.event_id).toBe('e23');
  });

  it('holds at most its bound, and clear forgets everything and where the consumer was', () => {
    const own = new OwnEvents(2);
    own.keep(1, event('a'));
    own.keep(2, event('b'));
    own.keep(3, event('c'));
    expect(own.size).toBe(2);
    expect(own.take(3)).toBeUndefined();
    own.clear();
    own.keep(1, event('again'));
    expect(own.take(1)?.body.event_id).toBe('again');
  });
});
