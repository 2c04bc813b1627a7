import { describe, expect, it } from 'vitest';
import { eventId } from '../../src/mapper/event-id.js';

describe('eventId (issue #3: deterministic across versions)', () => {
  // Pinned values: ids already stored in outboxes and known to the API must not change with an upgrade.
  it.each([
    ['sim0001', 'SIA-DCS', '#SIM0001|Nri1/BA001', '2026-11-26T14:00:00Z', 0, '1deea5ae66db3cca103bcaf2d8cf0274'],
    ['1234', 'ADM-CID', '#1234|1130 01 015', '2026-01-02T03:04:05Z', 2, 'a2a5377b53ccea26b7e7043247f97666'],
    ['1234', 'SIA-DCS', '#1234|NBA001^Zone é^', '2026-01-02T03:04:05Z', 0, '9649ee2d87eb34c67d7da7a4a40d1159'],
  ])('%s %s %s → pinned id', (account, token, data, time, index, expected) => {
    expect(eventId({ account, token, data, time: new Date(time), index })).toBe(expected);
  });

  it('differs when any field differs', () => {
    const base = { account: 'A1', token: 'SIA-DCS', data: '#A1|NBA1', time: new Date('2026-01-01T00:00:00Z'), index: 0 };
    const ids = new Set([
      eventId(base),
      eventId({ ...base, account: 'A2' }),
      eventId({ ...base, token: 'ADM-CID' }),
      eventId({ ...base, data: '#A1|NBA2' }),
      eventId({ ...base, time: new Date('2026-01-01T00:00:01Z') }),
      eventId({ ...base, index: 1 }),
    ]);
    expect(ids.size).toBe(6);
    expect(eventId({ ...base, account: 'a1' })).toBe(eventId(base));
  });
});
