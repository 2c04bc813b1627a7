/**
 * One event as the events stream stores it (docs/cluster.md §3): versioned JSON `{ v: 1, account, body, media?,
 * acceptedAt }`. Camera credentials never enter the stream: a snapshot source taken from the configuration is stored
 * as a reference (the zone's or the account's), and its URL, user name and password are read from the configuration
 * in force when the event is delivered. A URL the panel sent itself (`V` xdata) is stored as sent: it is part of the
 * event's payload already. Reading validates everything, so a damaged message is an error value, never an exception.
 */
import type { AccountConfig, ZoneConfig } from '../../config/types.js';
import { zoneKey } from '../../mapper/map.js';
import { isIsoUtcTimestamp, isPlainObject } from '../partner-event-schema.js';
import type { MediaSource, OutgoingEvent, PartnerEvent } from '../types.js';

export const EVENT_MESSAGE_VERSION = 1;

/** The snapshot source without its credentials: where in the configuration to find it, or the panel's own URL. */
export type StoredMedia = { config: 'zone'; zone: string } | { config: 'account' } | { url: string };

export interface EventMessage {
  v: typeof EVENT_MESSAGE_VERSION;
  account: string;
  body: PartnerEvent;
  media?: StoredMedia;
  /** ISO 8601 UTC: when this bridge accepted the frame. */
  acceptedAt: string;
}

export type Accounts = Readonly<Record<string, AccountConfig>>;

export type ReadEventMessage = { ok: true; message: EventMessage } | { ok: false; error: string };
export type DecodedEventMessage = { ok: true; event: OutgoingEvent; acceptedAt: string } | { ok: false; error: string };

/** The configured zone entry for a panel zone, matched numerically like the mapping does. */
function zoneConfig(account: AccountConfig | undefined, zone: string): ZoneConfig | undefined {
  if (!account) return undefined;
  const key = zoneKey(zone);
  for (const [name, entry] of Object.entries(account.zones)) if (zoneKey(name) === key) return entry;
  return undefined;
}

/**
 * The stored form of `event.media`: the configured source it came from (the zone's first, then the account's, as the
 * mapping chooses), else the panel's URL. A source with credentials that the configuration no longer holds (reloaded
 * between mapping and storing) is dropped rather than stored with them.
 */
export function storedMedia(event: OutgoingEvent, accounts: Accounts): StoredMedia | undefined {
  const media = event.media;
  if (!media?.snapshotUrl) return undefined;
  const configured = media.snapshotUrl.startsWith(CONFIGURED_SOURCE);
  const account = accounts[event.account];
  const zone = event.body.payload['zone'];
  if (typeof zone === 'string' && zoneConfig(account, zone)?.snapshotUrl) return { config: 'zone', zone };
  if (account?.snapshotUrl) return { config: 'account' };
  if (configured || media.username !== undefined || media.password !== undefined) return undefined;
  return { url: media.snapshotUrl };
}

/** Marks, in a dead letter, a snapshot source taken from the configuration (resolved again when re-queued). */
export const CONFIGURED_SOURCE = 'configured:';

/**
 * The event as a dead letter keeps it (docs/cluster.md §6): a configured camera source is replaced by a marker (no
 * URL, user or password in the dead stream; re-queueing resolves it from the configuration again), a panel's own
 * URL stays, anything else is dropped.
 */
export function withoutCameraSecrets(event: OutgoingEvent, accounts: Accounts): OutgoingEvent {
  if (!event.media) return event;
  const { media: _media, ...rest } = event;
  const stored = storedMedia(event, accounts);
  if (stored === undefined) return rest;
  if ('url' in stored) return { ...rest, media: { snapshotUrl: stored.url } };
  return { ...rest, media: { snapshotUrl: `${CONFIGURED_SOURCE}${stored.config === 'zone' ? `zone ${stored.zone}` : 'account'}` } };
}

/** The snapshot source to deliver with: the stored reference resolved against `accounts` (the configuration now). */
export function resolveMedia(account: string, media: StoredMedia, accounts: Accounts): MediaSource | undefined {
  if ('url' in media) return { snapshotUrl: media.url };
  const entry = accounts[account];
  const from = media.config === 'zone' ? zoneConfig(entry, media.zone) : entry;
  if (!from?.snapshotUrl) return undefined;
  return {
    snapshotUrl: from.snapshotUrl,
    ...(from.snapshotUsername ? { username: from.snapshotUsername } : {}),
    ...(from.snapshotPassword ? { password: from.snapshotPassword } : {}),
  };
}

/** The message published for one event. */
export function encodeEventMessage(event: OutgoingEvent, acceptedAt: string, accounts: Accounts): Uint8Array {
  const media = storedMedia(event, accounts);
  const message: EventMessage = {
    v: EVENT_MESSAGE_VERSION,
    account: event.account,
    body: event.body,
    ...(media ? { media } : {}),
    acceptedAt,
  };
  return Buffer.from(JSON.stringify(message), 'utf8');
}

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

function mediaError(media: unknown): string | undefined {
  if (!isPlainObject(media)) return 'media is not an object';
  if ('url' in media)
    return typeof media['url'] === 'string' && /^https?:\/\//i.test(media['url']) ? undefined : 'media.url is not an http(s) URL';
  if (media['config'] === 'account') return undefined;
  if (media['config'] === 'zone') return typeof media['zone'] === 'string' && media['zone'] !== '' ? undefined : 'media.zone is not a zone';
  return 'media names neither a url nor a configured source';
}

/** Parses and checks a stored message without resolving its media (what listing the stream shows). */
export function readEventMessage(data: Uint8Array): ReadEventMessage {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return fail(`not JSON (${data.byteLength} bytes)`);
  }
  if (!isPlainObject(value)) return fail('not a JSON object');
  if (value['v'] !== EVENT_MESSAGE_VERSION) return fail(`unknown message version ${JSON.stringify(value['v']) ?? 'undefined'}`);
  const { account, body, media, acceptedAt } = value;
  if (typeof account !== 'string' || account === '') return fail('account is missing');
  if (!isPlainObject(body)) return fail('body is not an object');
  if (typeof body['event_id'] !== 'string' || body['event_id'] === '') return fail('body.event_id is missing');
  if (!isPlainObject(body['payload'])) return fail('body.payload is not an object');
  if (typeof acceptedAt !== 'string' || !isIsoUtcTimestamp(acceptedAt)) return fail('acceptedAt is not an ISO 8601 UTC time');
  if (media !== undefined) {
    const error = mediaError(media);
    if (error !== undefined) return fail(error);
  }
  return { ok: true, message: value as unknown as EventMessage };
}

/**
 * The event to deliver from a stored message, its snapshot source resolved against `accounts`; a damaged message is
 * `{ ok: false, error }` (the delivering instance moves it to the dead letters).
 */
export function decodeEventMessage(data: Uint8Array, accounts: Accounts): DecodedEventMessage {
  const read = readEventMessage(data);
  if (!read.ok) return read;
  const { account, body, media, acceptedAt } = read.message;
  const source = media ? resolveMedia(account, media, accounts) : undefined;
  return { ok: true, event: { body, account, ...(source ? { media: source } : {}) }, acceptedAt };
}
