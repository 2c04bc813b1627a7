/**
 * Hand-written validator of the Partner Event API request body (docs/partner-event-api.md §2).
 *
 * The rules are kept in one table (`FIELD_RULES`) whose keys are checked against the `PartnerEvent` type at compile
 * time; `schema/partner-event.schema.json` states the same rules as a JSON Schema for operators, and
 * test/sink/partner-event-schema.test.ts keeps the two from drifting apart.
 */
import type { PartnerEvent, PartnerEventStatus, PartnerEventType } from './types.js';

export type PartnerEventValidation = { ok: true; value: PartnerEvent } | { ok: false; field: string; message: string };

/** The only `version` the API knows. */
export const PARTNER_EVENT_VERSION = '1.0' as const;

/**
 * Event types named by the draft. The draft ends the list with "etc.", so the validator accepts any other
 * non-empty string as well; this list documents the known ones (and is `examples` in the JSON schema).
 */
export const KNOWN_EVENT_TYPES: readonly PartnerEventType[] = ['alarm', 'trouble', 'arming'];

export const PARTNER_EVENT_STATUSES: readonly PartnerEventStatus[] = ['active', 'inactive'];

/**
 * `YYYY-MM-DDTHH:MM:SS(.sss)?Z` — UTC only, optional fraction of one to three digits (milliseconds). The calendar
 * (month length, leap years) is checked separately by `isIsoUtcTimestamp`.
 */
export const ISO_UTC_TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z$/;

/** The field name used when the body itself (not one of its fields) is wrong. */
export const BODY_FIELD = '$';

type Check = (value: unknown) => string | undefined;

interface FieldRule {
  required: boolean;
  check: Check;
}

const NOT_BLANK = /\S/;

const nonEmptyString: Check = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  if (!NOT_BLANK.test(value)) return 'must not be empty';
  return undefined;
};

const boolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'must be a boolean');

const timestamp: Check = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  return isIsoUtcTimestamp(value) ? undefined : 'must be an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS[.sss]Z)';
};

/**
 * One rule per field of the reference, in the reference's order. `satisfies` makes the compiler reject a table
 * that misses a field of `PartnerEvent` or names one the type does not have.
 */
const FIELD_RULES = {
  version: {
    required: true,
    check: (value) => (value === PARTNER_EVENT_VERSION ? undefined : `must be "${PARTNER_EVENT_VERSION}"`),
  },
  location_id: { required: true, check: nonEmptyString },
  recorder_id: { required: false, check: nonEmptyString },
  camera_id: { required: true, check: nonEmptyString },
  event_id: { required: true, check: nonEmptyString },
  event_type: { required: true, check: nonEmptyString },
  event_status: {
    required: true,
    check: (value) =>
      typeof value === 'string' && (PARTNER_EVENT_STATUSES as readonly string[]).includes(value)
        ? undefined
        : `must be one of ${PARTNER_EVENT_STATUSES.map((s) => `"${s}"`).join(', ')}`,
  },
  event_time: { required: true, check: timestamp },
  sent_at: { required: true, check: timestamp },
  should_signal_to_monitoring_center: { required: true, check: boolean },
  upload_snapshot_count: {
    required: true,
    check: (value) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? undefined : 'must be an integer >= 0'),
  },
  upload_short_mp4: { required: true, check: boolean },
  upload_event_mp4: { required: true, check: boolean },
  payload: { required: true, check: (value) => (isPlainObject(value) ? undefined : 'must be an object') },
} satisfies Record<keyof PartnerEvent, FieldRule>;

type FieldName = keyof typeof FIELD_RULES;

/** Every allowed top-level field, in the reference's order. */
export const PARTNER_EVENT_FIELDS: readonly FieldName[] = Object.keys(FIELD_RULES) as FieldName[];

/** The fields that must be present (all but `recorder_id`). */
export const REQUIRED_PARTNER_EVENT_FIELDS: readonly FieldName[] = PARTNER_EVENT_FIELDS.filter((name) => FIELD_RULES[name].required);

const ALLOWED = new Set<string>(PARTNER_EVENT_FIELDS);

/**
 * Checks a parsed JSON body. The first unknown top-level field is reported before anything else (a misspelt key
 * is more useful to hear about than the "missing" field it was meant to be); then each field in reference order.
 * On success `value` is the input object itself, typed; `event_type` may be a type outside `KNOWN_EVENT_TYPES`.
 */
export function validatePartnerEvent(body: unknown): PartnerEventValidation {
  if (!isPlainObject(body)) return { ok: false, field: BODY_FIELD, message: 'must be a JSON object' };
  for (const key of Object.keys(body)) {
    if (!ALLOWED.has(key)) return { ok: false, field: key, message: 'is not a known field' };
  }
  for (const name of PARTNER_EVENT_FIELDS) {
    const rule: FieldRule = FIELD_RULES[name];
    if (!Object.prototype.hasOwnProperty.call(body, name) || body[name] === undefined) {
      if (rule.required) return { ok: false, field: name, message: 'is required' };
      continue;
    }
    const message = rule.check(body[name]);
    if (message !== undefined) return { ok: false, field: name, message };
  }
  return { ok: true, value: body as unknown as PartnerEvent };
}

/** True for `YYYY-MM-DDTHH:MM:SS(.sss)?Z` strings naming a real instant (no 30 February, no hour 24). */
export function isIsoUtcTimestamp(value: string): boolean {
  const match = ISO_UTC_TIMESTAMP_PATTERN.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** A JSON object: not null, not an array, and made by `{}`/`JSON.parse` (or with a null prototype). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
