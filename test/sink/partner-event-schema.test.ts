import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BODY_FIELD,
  ISO_UTC_TIMESTAMP_PATTERN,
  KNOWN_EVENT_TYPES,
  PARTNER_EVENT_FIELDS,
  PARTNER_EVENT_STATUSES,
  PARTNER_EVENT_VERSION,
  REQUIRED_PARTNER_EVENT_FIELDS,
  isIsoUtcTimestamp,
  validatePartnerEvent,
} from '../../src/sink/partner-event-schema.js';

interface PropertySchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
  format?: string;
}

interface ObjectSchema {
  type: string;
  additionalProperties: boolean;
  required: string[];
  properties: Record<string, PropertySchema>;
}

const schema = JSON.parse(readFileSync(new URL('../../schema/partner-event.schema.json', import.meta.url), 'utf8')) as ObjectSchema;

function validBody(): Record<string, unknown> {
  return {
    version: '1.0',
    location_id: 'Z6RSOG',
    recorder_id: 'Z6RANV',
    camera_id: '2fe519b4-2438-4aa1-b051-87cf22bb',
    event_id: '1763603245534315',
    event_type: 'alarm',
    event_status: 'active',
    event_time: '2025-11-20T01:46:25.534Z',
    sent_at: '2025-11-20T01:46:26.001Z',
    should_signal_to_monitoring_center: true,
    upload_snapshot_count: 0,
    upload_short_mp4: false,
    upload_event_mp4: false,
    payload: { protocol: 'SIA-DCS', code: 'BA', zone: '15' },
  };
}

function withField(field: string, value: unknown): Record<string, unknown> {
  return { ...validBody(), [field]: value };
}

function without(field: string): Record<string, unknown> {
  const body = validBody();
  delete body[field];
  return body;
}

describe('validatePartnerEvent: valid bodies', () => {
  it('accepts the reference example and returns it typed', () => {
    const body = validBody();
    const result = validatePartnerEvent(body);
    expect(result).toEqual({ ok: true, value: body });
    if (result.ok) expect(result.value).toBe(body);
  });

  it('accepts an arming event without recorder_id', () => {
    const body = { ...without('recorder_id'), event_type: 'arming', event_status: 'inactive' };
    expect(validatePartnerEvent(body).ok).toBe(true);
  });

  it('accepts event types beyond the known ones (the draft says "etc.")', () => {
    expect(KNOWN_EVENT_TYPES).toEqual(['alarm', 'trouble', 'arming']);
    for (const type of [...KNOWN_EVENT_TYPES, 'supervisory', 'x']) {
      expect(validatePartnerEvent(withField('event_type', type)).ok).toBe(true);
    }
  });

  it('accepts times without fraction or with 1–3 fraction digits, counts and an empty payload', () => {
    for (const time of ['2025-11-20T01:46:25Z', '2025-11-20T01:46:25.5Z', '2024-02-29T23:59:59.999Z']) {
      expect(validatePartnerEvent(withField('event_time', time)).ok).toBe(true);
      expect(validatePartnerEvent(withField('sent_at', time)).ok).toBe(true);
    }
    expect(validatePartnerEvent({ ...validBody(), upload_snapshot_count: 8, upload_short_mp4: true }).ok).toBe(true);
    expect(validatePartnerEvent(withField('payload', {})).ok).toBe(true);
    expect(validatePartnerEvent(withField('payload', Object.create(null) as object)).ok).toBe(true);
  });
});

describe('validatePartnerEvent: invalid bodies name the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['version', '1', /"1\.0"/],
    ['version', 1, /"1\.0"/],
    ['version', '1.0 ', /"1\.0"/],
    ['location_id', '', /empty/],
    ['location_id', '   ', /empty/],
    ['location_id', 42, /string/],
    ['recorder_id', '', /empty/],
    ['recorder_id', null, /string/],
    ['camera_id', '', /empty/],
    ['camera_id', ['c1'], /string/],
    ['event_id', '', /empty/],
    ['event_id', 1763603245534315, /string/],
    ['event_type', '', /empty/],
    ['event_type', null, /string/],
    ['event_status', 'restored', /"active", "inactive"/],
    ['event_status', true, /"active", "inactive"/],
    ['event_time', '2025-11-20 01:46:25Z', /ISO 8601/],
    ['event_time', '2025-11-20T01:46:25+00:00', /ISO 8601/],
    ['event_time', '2025-11-20T01:46:25', /ISO 8601/],
    ['event_time', '2025-02-29T01:46:25Z', /ISO 8601/],
    ['event_time', '2025-11-20T24:00:00Z', /ISO 8601/],
    ['event_time', '2025-11-20T01:46:25.1234Z', /ISO 8601/],
    ['event_time', 1763603245, /string/],
    ['sent_at', '2025-13-01T00:00:00Z', /ISO 8601/],
    ['sent_at', '', /ISO 8601/],
    ['should_signal_to_monitoring_center', 'true', /boolean/],
    ['should_signal_to_monitoring_center', 1, /boolean/],
    ['upload_snapshot_count', -1, /integer >= 0/],
    ['upload_snapshot_count', 1.5, /integer >= 0/],
    ['upload_snapshot_count', '2', /integer >= 0/],
    ['upload_snapshot_count', Number.NaN, /integer >= 0/],
    ['upload_short_mp4', 'false', /boolean/],
    ['upload_event_mp4', null, /boolean/],
    ['payload', null, /object/],
    ['payload', [], /object/],
    ['payload', 'text', /object/],
    ['payload', new Date(0), /object/],
  ];

  it.each(cases)('%s = %j', (field, value, message) => {
    const result = validatePartnerEvent(withField(field, value));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.field).toBe(field);
      expect(result.message).toMatch(message);
    }
  });

  it.each(REQUIRED_PARTNER_EVENT_FIELDS.map((f) => [f]))('missing %s is reported', (field) => {
    expect(validatePartnerEvent(without(field))).toEqual({ ok: false, field, message: 'is required' });
  });

  it('reports the first unknown top-level field before anything else', () => {
    const body = { ...validBody(), version: 'bad', cameraId: 'x', extra: 1 };
    expect(validatePartnerEvent(body)).toEqual({ ok: false, field: 'cameraId', message: 'is not a known field' });
  });

  it('rejects bodies that are not JSON objects', () => {
    for (const body of [null, undefined, 'x', 1, [], [validBody()], new Map()]) {
      const result = validatePartnerEvent(body);
      expect(result).toEqual({ ok: false, field: BODY_FIELD, message: 'must be a JSON object' });
    }
  });

  it('checks calendar dates, not only the shape', () => {
    expect(isIsoUtcTimestamp('2000-02-29T00:00:00Z')).toBe(true);
    expect(isIsoUtcTimestamp('1900-02-29T00:00:00Z')).toBe(false);
    expect(isIsoUtcTimestamp('2025-04-31T00:00:00Z')).toBe(false);
    expect(isIsoUtcTimestamp('0099-12-31T23:59:59Z')).toBe(true);
    expect(isIsoUtcTimestamp('2025-00-10T00:00:00Z')).toBe(false);
    expect(isIsoUtcTimestamp('2025-01-01T00:60:00Z')).toBe(false);
    expect(isIsoUtcTimestamp('2025-01-01T00:00:60Z')).toBe(false);
  });
});

describe('schema/partner-event.schema.json agrees with the validator', () => {
  it('lists the same fields, required fields and closed object', () => {
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual([...PARTNER_EVENT_FIELDS]);
    expect([...schema.required].sort()).toEqual([...REQUIRED_PARTNER_EVENT_FIELDS].sort());
    expect(PARTNER_EVENT_FIELDS.filter((f) => !REQUIRED_PARTNER_EVENT_FIELDS.includes(f))).toEqual(['recorder_id']);
  });

  it('states the same constants, enums and patterns', () => {
    const p = schema.properties;
    expect(p.version?.const).toBe(PARTNER_EVENT_VERSION);
    expect(p.event_status?.enum).toEqual([...PARTNER_EVENT_STATUSES]);
    expect(p.event_type?.examples).toEqual([...KNOWN_EVENT_TYPES]);
    expect(p.event_time?.pattern).toBe(ISO_UTC_TIMESTAMP_PATTERN.source);
    expect(p.sent_at?.pattern).toBe(ISO_UTC_TIMESTAMP_PATTERN.source);
    expect(p.upload_snapshot_count).toMatchObject({ type: 'integer', minimum: 0 });
  });

  /**
   * A tiny evaluator for the keywords the schema uses; the validator and the schema must give the same verdict on
   * every body below (the one thing a pattern cannot say — calendar validity — is left to `format: date-time`).
   */
  function schemaAccepts(body: unknown): boolean {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
    const record = body as Record<string, unknown>;
    if (schema.required.some((f) => !(f in record))) return false;
    for (const [key, value] of Object.entries(record)) {
      const rule = schema.properties[key];
      if (!rule) {
        if (schema.additionalProperties === false) return false;
        continue;
      }
      if (!matchesType(rule.type, value)) return false;
      if ('const' in rule && value !== rule.const) return false;
      if (rule.enum && !rule.enum.includes(value)) return false;
      if (typeof value === 'string') {
        if (rule.minLength !== undefined && value.length < rule.minLength) return false;
        if (rule.pattern !== undefined && !new RegExp(rule.pattern, 'u').test(value)) return false;
      }
      if (typeof value === 'number') {
        if (rule.minimum !== undefined && value < rule.minimum) return false;
        if (rule.maximum !== undefined && value > rule.maximum) return false;
      }
    }
    return true;
  }

  function matchesType(type: string | undefined, value: unknown): boolean {
    switch (type) {
      case undefined:
        return true;
      case 'string':
        return typeof value === 'string';
      case 'boolean':
        return typeof value === 'boolean';
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      default:
        throw new Error(`the test's evaluator does not know type ${type}`);
    }
  }

  const probeValues: unknown[] = [
    '1.0',
    '1.1',
    '',
    ' ',
    'x',
    'alarm',
    'arming',
    'other',
    'active',
    'inactive',
    'Active',
    '2025-11-20T01:46:25.534Z',
    '2025-11-20T01:46:25Z',
    '2025-11-20T01:46:25.1234Z',
    '2025-11-20T01:46:25+01:00',
    true,
    false,
    0,
    1,
    -1,
    2.5,
    9007199254740991,
    9007199254740992,
    null,
    [],
    {},
    { a: 1 },
  ];

  it('gives the same verdict for every field set to every probe value, removed, or with an extra field', () => {
    const bodies: unknown[] = [validBody(), { ...validBody(), extra: 1 }, 'x', null, []];
    for (const field of PARTNER_EVENT_FIELDS) {
      bodies.push(without(field));
      for (const value of probeValues) bodies.push(withField(field, value));
    }
    let disagreements = 0;
    for (const body of bodies) {
      const expected = schemaAccepts(body);
      const actual = validatePartnerEvent(body).ok;
      if (expected !== actual) {
        disagreements += 1;
        expect.soft({ body, schema: expected, validator: actual }).toBeUndefined();
      }
    }
    expect(disagreements).toBe(0);
    expect(bodies.length).toBeGreaterThan(PARTNER_EVENT_FIELDS.length * probeValues.length);
  });
});
