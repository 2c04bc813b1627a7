/** The stored form of an event in the events stream (docs/cluster.md §3): round trips, no credentials, damage as values. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { decodeEventMessage, encodeEventMessage, readEventMessage, withoutCameraSecrets } from '../../../src/sink/cluster/event-message.js';
import type { OutgoingEvent } from '../../../src/sink/types.js';
import { makeEvent } from '../outbox/helpers.js';

const ACCEPTED = '2026-12-02T09:00:00.000Z';
const ZONE_PASSWORD = 'zone-secret-9f2';
const ACCOUNT_PASSWORD = 'account-secret-71c';
const SIGNED_URL = 'https://cam.example/zone3.jpg?token=signed-77ab';

const config = parseConfig(
  {
    listeners: [],
    sink: { type: 'file', path: 'events.ndjson' },
    accounts: {
      '1234': {
        locationId: 'LOC',
        cameraId: 'cam',
        snapshotUrl: 'https://cam.example/account.jpg',
        snapshotUsername: 'viewer',
        snapshotPassword: ACCOUNT_PASSWORD,
        zones: { '003': { snapshotUrl: SIGNED_URL, snapshotUsername: 'zone-viewer', snapshotPassword: ZONE_PASSWORD } },
      },
      '5678': { locationId: 'LOC2', cameraId: 'cam2' },
    },
  },
  '/etc/alarm-bridge/bridge.json',
);
const accounts = config.accounts;

/** An event as the mapping makes it: `zone` in the payload, the media source with its credentials. */
function eventWith(account: string, zone: string, media?: OutgoingEvent['media']): OutgoingEvent {
  const event = makeEvent(account, 3);
  event.body.payload['zone'] = zone;
  return media ? { ...event, media } : event;
}

const zoneEvent = eventWith('1234', '3', { snapshotUrl: SIGNED_URL, username: 'zone-viewer', password: ZONE_PASSWORD });
const accountEvent = eventWith('1234', '9', {
  snapshotUrl: 'https://cam.example/account.jpg',
  username: 'viewer',
  password: ACCOUNT_PASSWORD,
});
const panelEvent = eventWith('5678', '1', { snapshotUrl: 'https://panel.example/v/abc.jpg' });
const plainEvent = eventWith('5678', '1');

describe('event message', () => {
  it.each([
    ['without media', plainEvent, undefined],
    ['with the zone’s configured source', zoneEvent, { config: 'zone', zone: '3' }],
    ['with the account’s configured source', accountEvent, { config: 'account' }],
    ['with a URL the panel sent', panelEvent, { url: 'https://panel.example/v/abc.jpg' }],
  ])('round-trips an event %s', (_name, event, stored) => {
    const bytes = encodeEventMessage(event, ACCEPTED, accounts);
    const read = readEventMessage(bytes);
    expect(read).toEqual({
      ok: true,
      message: { v: 1, account: event.account, body: event.body, acceptedAt: ACCEPTED, ...(stored ? { media: stored } : {}) },
    });
    expect(decodeEventMessage(bytes, accounts)).toEqual({ ok: true, event, acceptedAt: ACCEPTED });
  });

  it('stores no camera password, user name or signed URL: they come from the configuration at delivery', () => {
    for (const event of [zoneEvent, accountEvent]) {
      const text = Buffer.from(encodeEventMessage(event, ACCEPTED, accounts)).toString('utf8');
      for (const secret of [ZONE_PASSWORD, ACCOUNT_PASSWORD, 'signed-77ab', 'viewer']) expect(text).not.toContain(secret);
    }
  });

  it('resolves a stored source against the configuration in force at delivery (a changed password applies)', () => {
    const bytes = encodeEventMessage(zoneEvent, ACCEPTED, accounts);
    const zones = { '3': { snapshotUrl: SIGNED_URL, snapshotUsername: 'zone-viewer', snapshotPassword: 'rotated' } };
    const reloaded = { ...accounts, '1234': { ...accounts['1234']!, zones } };
    expect(decodeEventMessage(bytes, reloaded)).toMatchObject({ ok: true, event: { media: { password: 'rotated' } } });
    // A source removed from the configuration since: the event is delivered without media.
    const removed = { ...accounts, '1234': { ...accounts['1234']!, zones: {}, snapshotUrl: undefined } };
    const decoded = decodeEventMessage(bytes, removed);
    expect(decoded.ok && decoded.event.media).toBeUndefined();
  });

  it('drops a source with credentials the configuration no longer holds rather than storing them', () => {
    const bytes = encodeEventMessage(zoneEvent, ACCEPTED, {});
    expect(Buffer.from(bytes).toString('utf8')).not.toContain(ZONE_PASSWORD);
    const read = readEventMessage(bytes);
    expect(read).toMatchObject({ ok: true, message: { account: '1234' } });
    expect(read.ok && read.message.media).toBeUndefined();
  });

  const valid = JSON.parse(Buffer.from(encodeEventMessage(zoneEvent, ACCEPTED, accounts)).toString('utf8')) as Record<string, unknown>;
  const damaged = (change: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...valid, ...change }), 'utf8');

  it.each([
    ['not JSON', Buffer.from('{"v":1,', 'utf8'), /not JSON/],
    ['an array', Buffer.from('[1]', 'utf8'), /not a JSON object/],
    ['another version', damaged({ v: 2 }), /unknown message version 2/],
    ['no account', damaged({ account: '' }), /account/],
    ['no body', damaged({ body: 'x' }), /body is not an object/],
    ['no event id', damaged({ body: { ...(valid['body'] as object), event_id: 7 } }), /event_id/],
    ['no payload', damaged({ body: { ...(valid['body'] as object), payload: null } }), /payload/],
    ['a bad acceptedAt', damaged({ acceptedAt: 'yesterday' }), /acceptedAt/],
    ['a bad media', damaged({ media: { url: 'file:///etc/passwd' } }), /media.url/],
    ['an unknown media', damaged({ media: { config: 'elsewhere' } }), /media/],
    ['a media zone missing', damaged({ media: { config: 'zone' } }), /media.zone/],
  ])('reads a damaged message (%s) as an error value', (_name, bytes, error) => {
    const read = readEventMessage(bytes);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.error).toMatch(error);
    expect(decodeEventMessage(bytes, accounts)).toEqual(read);
  });

  it('never throws on arbitrary bytes: what it cannot read is an error value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const decoded = decodeEventMessage(bytes, accounts);
        if (!decoded.ok) expect(typeof decoded.error).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on JSON close to a message', () => {
    const field = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.jsonValue()),
    );
    fc.assert(
      fc.property(
        fc.record({ v: fc.oneof(fc.constant(1), fc.jsonValue()), account: field, body: field, media: field, acceptedAt: field }),
        (value) => {
          const read = readEventMessage(Buffer.from(JSON.stringify(value), 'utf8'));
          expect(typeof read.ok).toBe('boolean');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('withoutCameraSecrets (dead letters, docs/cluster.md §6)', () => {
  it('keeps a configured source as a marker, no URL, user or password; re-queued, it resolves from the configuration again', () => {
    const kept = withoutCameraSecrets(zoneEvent, accounts);
    const text = JSON.stringify(kept);
    for (const secret of [ZONE_PASSWORD, 'signed-77ab', 'zone-viewer']) expect(text).not.toContain(secret);
    expect(kept.media).toEqual({ snapshotUrl: 'configured:zone 3' });
    expect(decodeEventMessage(encodeEventMessage(kept, ACCEPTED, accounts), accounts)).toMatchObject({
      ok: true,
      event: { media: { snapshotUrl: SIGNED_URL, username: 'zone-viewer', password: ZONE_PASSWORD } },
    });
    // The source gone from the configuration: the marker is dropped, never fetched as a URL.
    const removed = { ...accounts, '1234': { ...accounts['1234']!, zones: {}, snapshotUrl: undefined } };
    const requeued = decodeEventMessage(encodeEventMessage(kept, ACCEPTED, removed), removed);
    expect(requeued.ok && requeued.event.media).toBeFalsy();
  });

  it("keeps a panel's own URL and an event without media as they are", () => {
    expect(withoutCameraSecrets(panelEvent, accounts).media).toEqual({ snapshotUrl: 'https://panel.example/v/abc.jpg' });
    expect(withoutCameraSecrets(plainEvent, accounts)).toBe(plainEvent);
  });
});
