/** Choosing dead letters for the operator's actions, and the letter of an event that was not forwarded (no files). */
import { describe, expect, it } from 'vitest';
import type { SourceFrame } from '../../../src/mapper/index.js';
import { letterOf, matchLetters, requeuePlan } from '../../../src/sink/outbox/dead-letter-actions.js';
import type { StoredDeadLetter } from '../../../src/sink/outbox/dead-letters.js';
import { makeEvent } from './helpers.js';

const letter = (line: number, id: string, account: string, reason: string, withEvent = true): StoredDeadLetter => ({
  line,
  id,
  account,
  reason,
  deadAt: '2026-01-15T10:00:00.000Z',
  ...(withEvent ? { event: makeEvent(account, line) } : {}),
});
const letters = [
  letter(0, 'e1', 'ab12', 'permanent'),
  letter(1, 'e2', 'CD34', 'unmapped-camera', false),
  letter(2, 'e1', 'AB12', 'max-age'),
  letter(3, '', '', 'unreadable-line', false),
];

describe('matchLetters', () => {
  it('selects by ids, account (any case) and reason together; unreadable lines only when asked', () => {
    expect(matchLetters(letters, {}, false).map((l) => l.line)).toEqual([0, 1, 2]);
    expect(matchLetters(letters, {}, true).map((l) => l.line)).toEqual([0, 1, 2, 3]);
    expect(matchLetters(letters, { account: 'AB12' }, true).map((l) => l.line)).toEqual([0, 2]);
    expect(matchLetters(letters, { ids: ['e1'], reason: 'max-age' }, false).map((l) => l.line)).toEqual([2]);
    expect(matchLetters(letters, { ids: [] }, true)).toEqual([]);
  });
});

describe('requeuePlan', () => {
  it('re-queues each event id once with its original id, frees all its lines, skips letters without an event', () => {
    const { chosen, skipped } = requeuePlan(letters.slice(0, 3), undefined);
    expect([...chosen.keys()]).toEqual(['e1']);
    expect(chosen.get('e1')).toMatchObject({ lines: [0, 2], event: { account: 'ab12', body: { event_id: 'e1' } } });
    expect(skipped.map((l) => l.id)).toEqual(['e2']);
  });

  it('takes the remapped event when there is one (the fixed configuration), keeping the letter id', () => {
    const { chosen, skipped } = requeuePlan([letters[1]!], (l) => makeEvent(l.account, 9));
    expect(skipped).toEqual([]);
    expect(chosen.get('e2')!.event).toMatchObject({ account: 'CD34', body: { event_id: 'e2', location_id: 'LOC-CD34' } });
  });
});

describe('letterOf', () => {
  it('keeps the reason, detail, config key and the source frame with its index', () => {
    const source = { raw: 'raw frame' } as SourceFrame;
    const at = '2026-01-15T10:00:00.000Z';
    expect(
      letterOf({ eventId: 'e', account: 'A', reason: 'unmapped-camera', message: 'no camera', configKey: 'k', source, index: 2 }, at),
    ).toEqual({
      id: 'e',
      account: 'A',
      reason: 'unmapped-camera',
      detail: 'no camera',
      configKey: 'k',
      deadAt: at,
      acceptedAt: at,
      source: { frame: source, index: 2 },
    });
    expect(letterOf({ eventId: 'e', account: 'A', reason: 'unmapped-account', receivedAt: new Date(0) }, at)).toEqual({
      id: 'e',
      account: 'A',
      reason: 'unmapped-account',
      deadAt: at,
      acceptedAt: '1970-01-01T00:00:00.000Z',
    });
  });
});
