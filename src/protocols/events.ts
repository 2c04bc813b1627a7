/**
 * Protocol-neutral panel events: what the SIA DCS and Contact ID decoders produce and the mapper consumes.
 */

/**
 * Event categories shared by both code tables (docs/sia-dcs.md §3 and docs/contact-id.md §3 category keys).
 * Contact ID qualifier 3 turns `alarm`/`trouble`/`supervisory` into their `-restore` forms, and on
 * open/close codes qualifier 1 = `opening`, 3 = `closing` (docs/contact-id.md §2); qualifier 6 = `status`.
 */
export type EventCategory =
  | 'alarm'
  | 'alarm-restore'
  | 'trouble'
  | 'trouble-restore'
  | 'supervisory'
  | 'supervisory-restore'
  | 'bypass'
  | 'unbypass'
  | 'opening'
  | 'closing'
  | 'test'
  | 'access'
  | 'system'
  | 'cancel'
  | 'status'
  | 'unknown';

export const EVENT_CATEGORIES: readonly EventCategory[] = [
  'alarm',
  'alarm-restore',
  'trouble',
  'trouble-restore',
  'supervisory',
  'supervisory-restore',
  'bypass',
  'unbypass',
  'opening',
  'closing',
  'test',
  'access',
  'system',
  'cancel',
  'status',
  'unknown',
];

/** What the number after an event code designates (the "Addr" / "CCC is" columns of the code tables). */
export type AddressKind = 'zone' | 'user' | 'area' | 'door' | 'line' | 'device' | 'none';

export interface SiaEvent {
  protocol: 'sia';
  /** Two upper-case letters, e.g. `BA`. */
  code: string;
  /** The characters after the code, kept verbatim (`"01"`, `"501"`, `""`). */
  address: string;
  /** What `address` designates for this code (`zone` for unknown codes). */
  addressKind: AddressKind;
  /** Area / partition: the `ri` modifier in force, else `pi`, else null. */
  area: string | null;
  /** User number: the `id` modifier in force, else null. */
  user: string | null;
  /** Every modifier in force for this event, e.g. `{ ri: "1", ti: "11:46" }`. */
  modifiers: Record<string, string>;
  /** `^text^` after the address, else the block's `|A` text, else null. */
  text: string | null;
  /** The area's name when the panel sent one after the area modifier (`Nri01^AREA NAME^/…`); absent otherwise. */
  areaText?: string;
  /** `N` new or `O` old event (DC-03 function letter). */
  function: 'N' | 'O';
  category: EventCategory;
  description: string;
  /** False when the code is not in the built-in table (category `unknown`). */
  known: boolean;
}

export interface CidEvent {
  protocol: 'cid';
  /** `1` new event / opening, `3` restore / closing, `6` still present (docs/contact-id.md §2). */
  qualifier: string;
  /** EEE, three hex digits as sent. */
  code: string;
  /** GG, group / partition as sent. */
  group: string;
  /** CCC, zone or user number as sent. */
  zone: string;
  /** Whether CCC is a zone or a user for this code. */
  addressKind: 'zone' | 'user';
  category: EventCategory;
  description: string;
  known: boolean;
  /**
   * Whether the DC-05 check digit held (docs/contact-id.md §1), present only when the message carried one (the whole
   * DC-05 string inside ADM-CID, Lupusec's CID over TCP). A wrong digit is flagged, the event still decoded.
   */
  checksumOk?: boolean;
}

export type PanelEvent = SiaEvent | CidEvent;

/** Result of decoding a token's data block into events. Decoders never throw. */
export type DataDecodeResult =
  { ok: true; account: string | null; events: PanelEvent[] } | { ok: false; account: string | null; error: string };
