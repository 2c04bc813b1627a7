/**
 * Mapping: decoded panel events → Partner Event API request bodies, or an explicit reason why not
 * (issue #3). Pure: the same frame and configuration always give the same result.
 */
import { DEFAULT_SIGNAL, NO_UPLOADS } from '../config/defaults.js';
import type { AccountConfig, MappingConfig, SignalConfig, ZoneConfig } from '../config/types.js';
import type { PanelEvent } from '../protocols/events.js';
import type { MediaSource, PartnerEvent } from '../sink/types.js';
import { classify, overrideKeys } from './classify.js';
import { isoOf } from '../iso-time.js';
import { frameEventId } from './event-id.js';
import type { SourceFrame } from './frame.js';
import type { NotForwarded, NotForwardedReason } from './not-forwarded.js';

export type MappedEvent =
  | { forwarded: true; index: number; account: string; body: PartnerEvent; media?: MediaSource; panelEvent: PanelEvent; rule: string }
  /** Not forwarded: what the durable log keeps as a dead letter (with the frame, to map it again later). */
  | (NotForwarded & {
      forwarded: false;
      index: number;
      reason: NotForwardedReason;
      message: string;
      source: SourceFrame;
      panelEvent: PanelEvent;
    });

export interface MapperConfig {
  accounts: Record<string, AccountConfig>;
  mapping: MappingConfig;
}

/** Zone numbers match numerically: "015", "15" and "0015" are the same zone (issue #3). */
export function zoneKey(zone: string): string {
  return /^\d+$/.test(zone) ? String(Number.parseInt(zone, 10)) : zone.toUpperCase();
}

const numberIndexes = new WeakMap<object, Map<string, unknown>>();

/** The entry of a zone- or user-number table for `key`, matching numerically (`zoneKey`); built once per table. */
function byNumber<T>(table: Record<string, T>, key: string | null): T | undefined {
  if (key === null) return undefined;
  let index = numberIndexes.get(table) as Map<string, T> | undefined;
  if (!index) {
    index = new Map(Object.entries(table).map(([k, value]) => [zoneKey(k), value]));
    numberIndexes.set(table, index);
  }
  return index.get(zoneKey(key));
}

const isZero = (text: string) => /^0+$/.test(text);

/** Zone, user and area of an event, by what its code's address designates. */
export function eventSubjects(event: PanelEvent): { zone: string | null; user: string | null; area: string | null } {
  if (event.protocol === 'sia') {
    const zone = event.addressKind === 'zone' && event.address !== '' && !isZero(event.address) ? event.address : null;
    const user = event.user ?? (event.addressKind === 'user' && event.address !== '' ? event.address : null);
    const area = event.area ?? (event.addressKind === 'area' && event.address !== '' ? event.address : null);
    return { zone, user, area };
  }
  return {
    zone: event.addressKind === 'zone' && !isZero(event.zone) ? event.zone : null,
    user: event.addressKind === 'user' ? event.zone : null,
    area: isZero(event.group) ? null : event.group,
  };
}

function eventTime(frame: SourceFrame): Date {
  if (frame.occurredAt) return frame.occurredAt;
  if (frame.timestamp && frame.timestampTrusted) return frame.timestamp;
  return frame.receivedAt;
}

/** Frame-level times, formatted once per frame rather than per event. */
interface FrameTimes {
  eventTime: string;
  receivedAt: string;
  panelTime: string | null;
}

function payloadOf(
  frame: SourceFrame,
  times: FrameTimes,
  event: PanelEvent,
  zone: string | null,
  zoneCfg: ZoneConfig | undefined,
  user: string | null,
  users: Record<string, string>,
  area: string | null,
): Record<string, unknown> {
  return {
    protocol: event.protocol,
    transport: frame.transport,
    token: frame.token,
    encrypted: frame.encrypted,
    account: frame.account,
    receiver: frame.receiver,
    line: frame.line,
    sequence: frame.sequence,
    code: event.code,
    qualifier: event.protocol === 'cid' ? event.qualifier : null,
    category: event.category,
    description: event.description,
    zone,
    zoneName: zoneCfg?.name ?? null,
    area,
    user,
    userName: byNumber(users, user) ?? null,
    text: event.protocol === 'sia' ? event.text : null,
    xdata: frame.xdata,
    panelTime: times.panelTime,
    receivedAt: times.receivedAt,
    peer: frame.peer,
    rawFrame: frame.raw,
  };
}

function placeholder(config: MapperConfig, text: string): string | undefined {
  return config.mapping.placeholderIds ? text : undefined;
}

/** Maps every event of a frame, in order. */
export function mapFrame(frame: SourceFrame, config: MapperConfig): MappedEvent[] {
  const account = frame.account;
  const accountCfg = config.accounts[account];
  const times: FrameTimes = {
    eventTime: isoOf(eventTime(frame)),
    receivedAt: frame.receivedAt.toISOString(),
    panelTime: frame.timestamp ? isoOf(frame.timestamp) : null,
  };
  const signalDefaults: Readonly<SignalConfig> = accountCfg?.signalToMonitoringCenter ?? DEFAULT_SIGNAL;
  const out: MappedEvent[] = [];
  for (let index = 0; index < frame.events.length; index++) {
    const panelEvent = frame.events[index]!;
    const id = frameEventId(frame, index);

    const verdict = classify(panelEvent, config.mapping);
    if (!verdict.forward) {
      const what = panelEvent.protocol === 'sia' ? `SIA ${panelEvent.code}` : `Contact ID ${panelEvent.qualifier}${panelEvent.code}`;
      if (verdict.reason === 'unknown-code') {
        // The least specific override key (`sia:XX`, `cid:EEE`): the one an operator adds for every qualifier.
        const configKey = `mapping.codes["${overrideKeys(panelEvent).at(-1)}"]`;
        out.push(
          notForwarded(
            { frame, index, id, panelEvent },
            'unknown-code',
            `${what} is not in the built-in tables; add ${configKey} or set mapping.forwardUnknown`,
            {
              configKey,
            },
          ),
        );
        continue;
      }
      out.push(
        notForwarded(
          { frame, index, id, panelEvent },
          'ignored',
          `${what} (${panelEvent.category}) is not forwarded (${verdict.source === 'built-in' ? 'built-in table' : `mapping.codes["${verdict.source}"]`})`,
        ),
      );
      continue;
    }
    const { zone, user, area } = eventSubjects(panelEvent);
    const zoneCfg = accountCfg ? byNumber(accountCfg.zones, zone) : undefined;
    const isArming = verdict.type === 'arming';
    const uploads = isArming ? NO_UPLOADS : (zoneCfg?.uploads ?? accountCfg?.uploads ?? NO_UPLOADS);
    // Own keys only: an override type such as "constructor" must not pick up an inherited property.
    const signal =
      verdict.signal ?? (Object.hasOwn(signalDefaults, verdict.type) ? signalDefaults[verdict.type as keyof SignalConfig] : false);
    // Everything but the ids, in the order the body lists it.
    const common = {
      event_id: id,
      event_type: verdict.type as PartnerEvent['event_type'],
      event_status: verdict.status,
      event_time: times.eventTime,
      sent_at: times.receivedAt,
      should_signal_to_monitoring_center: signal,
      upload_snapshot_count: uploads.snapshots,
      upload_short_mp4: uploads.shortMp4,
      upload_event_mp4: uploads.eventMp4,
      payload: payloadOf(frame, times, panelEvent, zone, zoneCfg, user, accountCfg?.users ?? {}, area),
    };

    const locationId = accountCfg?.locationId ?? placeholder(config, `account-${account}`);
    if (!locationId) {
      out.push(
        notForwarded(
          { frame, index, id, panelEvent },
          'unmapped-account',
          `account ${account} has no location; add accounts["${account}"].locationId`,
          {
            configKey: `accounts["${account}"].locationId`,
            partial: { version: '1.0', ...common },
          },
        ),
      );
      continue;
    }
    // Arming events are location-level: the account's default camera, no recorder (issue #3).
    const cameraId =
      (isArming ? undefined : zoneCfg?.cameraId) ??
      accountCfg?.cameraId ??
      placeholder(config, zone && !isArming ? `account-${account}-zone-${zoneKey(zone)}` : `account-${account}`);
    if (!cameraId) {
      const configKey = zone && !isArming ? `accounts["${account}"].zones["${zoneKey(zone)}"].cameraId` : `accounts["${account}"].cameraId`;
      out.push(
        notForwarded(
          { frame, index, id, panelEvent },
          'unmapped-camera',
          `no camera for account ${account}${zone && !isArming ? ` zone ${zone}` : ''}; add ${configKey}`,
          {
            configKey,
            partial: { version: '1.0', ...common, location_id: locationId },
          },
        ),
      );
      continue;
    }
    const recorderId = isArming ? undefined : (zoneCfg?.recorderId ?? accountCfg?.recorderId);
    const body: PartnerEvent = {
      version: '1.0',
      location_id: locationId,
      ...(recorderId ? { recorder_id: recorderId } : {}),
      camera_id: cameraId,
      ...common,
    };
    const media = mediaSource(frame, zoneCfg, accountCfg);
    out.push({ forwarded: true, index, account, body, ...(media ? { media } : {}), panelEvent, rule: verdict.source });
  }
  return out;
}

/** An event of the frame that is not forwarded, and why (a module function: no closure per event). */
function notForwarded(
  { frame, index, id: eventId, panelEvent }: { frame: SourceFrame; index: number; id: string; panelEvent: PanelEvent },
  reason: NotForwardedReason,
  message: string,
  extra: { configKey?: string; partial?: Partial<PartnerEvent> } = {},
): MappedEvent {
  return { forwarded: false, index, account: frame.account, eventId, reason, message, panelEvent, source: frame, ...extra };
}

/** Snapshot source for uploads: the zone's, else the account's configured URL, else a `V` xdata URL. */
function mediaSource(frame: SourceFrame, zone: ZoneConfig | undefined, account: AccountConfig | undefined): MediaSource | undefined {
  const from = zone?.snapshotUrl ? zone : account?.snapshotUrl ? account : undefined;
  if (from?.snapshotUrl) {
    return {
      snapshotUrl: from.snapshotUrl,
      ...(from.snapshotUsername ? { username: from.snapshotUsername } : {}),
      ...(from.snapshotPassword ? { password: from.snapshotPassword } : {}),
    };
  }
  const verification = frame.xdata.find((x) => x.id === 'V' && /^https?:\/\//i.test(x.value));
  return verification ? { snapshotUrl: verification.value } : undefined;
}
