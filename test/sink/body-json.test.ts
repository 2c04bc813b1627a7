import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyJsonAt, replaceSentAt, stringifyWithSentAt } from '../../src/sink/body-json.js';
import type { OutgoingEvent, PartnerEvent } from '../../src/sink/types.js';

const SENT = '2026-12-02T19:20:01.126Z';

function body(overrides: Partial<PartnerEvent> = {}): PartnerEvent {
  return {
    version: '1.0',
    location_id: 'LOC-1',
    recorder_id: 'REC-1',
    camera_id: 'CAM-1',
    event_id: 'evt-1',
    event_type: 'alarm',
    event_status: 'active',
    event_time: '2026-12-02T19:20:01.000Z',
    sent_at: '2026-12-02T19:20:01.123Z',
    should_signal_to_monitoring_center: true,
    upload_snapshot_count: 1,
    upload_short_mp4: false,
    upload_event_mp4: false,
    payload: { code: 'BA', zone: '1', sent_at: 'nested, not the body field', rawFrame: '"*SIA-DCS"0042L0#1234[#1234|NBA1]' },
    ...overrides,
  };
}

describe('bodyJsonAt', () => {
  it('replaces only the body-level sent_at in the stored text, byte for byte what serialising the body gives', () => {
    const b = body();
    const event: OutgoingEvent = { body: b, account: '1234', bodyJson: JSON.stringify(b) };
    const text = bodyJsonAt(event, SENT);
    expect(text).toBe(JSON.stringify({ ...b, sent_at: SENT }));
    expect(JSON.parse(text).payload.sent_at).toBe('nested, not the body field');
    expect(b.sent_at).toBe('2026-12-02T19:20:01.123Z');
  });

  it('serialises the body when the event carries no text', () => {
    const b = body();
    expect(bodyJsonAt({ body: b, account: '1234' }, SENT)).toBe(JSON.stringify({ ...b, sent_at: SENT }));
    expect(b.sent_at).toBe('2026-12-02T19:20:01.123Z');
  });

  it('falls back to serialising when the text cannot be trusted: an object before sent_at, another value, no key', () => {
    const b = body();
    // The nested object first: its "sent_at" would be found first, so the text is not used.
    const { payload, ...fields } = b;
    const reordered = JSON.stringify({ payload, ...fields });
    expect(replaceSentAt(reordered, b.sent_at, SENT)).toBeNull();
    expect(bodyJsonAt({ body: b, account: '1234', bodyJson: reordered }, SENT)).toBe(JSON.stringify({ ...b, sent_at: SENT }));
    // A text whose sent_at is not the body's (stale): not used either.
    expect(replaceSentAt(JSON.stringify({ ...b, sent_at: 'other' }), b.sent_at, SENT)).toBeNull();
    expect(replaceSentAt('{"version":"1.0"}', b.sent_at, SENT)).toBeNull();
    // A brace inside a string before sent_at only costs the shortcut.
    expect(replaceSentAt(JSON.stringify(body({ location_id: 'LOC-{1}' })), b.sent_at, SENT)).toBeNull();
  });

  it('for any field values gives exactly what serialising the body with the new sent_at gives', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(text, text, text, text, text, (location, eventId, sentAt, newSentAt, code) => {
        const b = body({ location_id: location, event_id: eventId, sent_at: sentAt, payload: { code, sent_at: sentAt } });
        const expected = JSON.stringify({ ...b, sent_at: newSentAt });
        expect(bodyJsonAt({ body: b, account: 'A', bodyJson: JSON.stringify(b) }, newSentAt)).toBe(expected);
        expect(stringifyWithSentAt(b, newSentAt)).toBe(expected);
        expect(b.sent_at).toBe(sentAt);
      }),
    );
  });
});
