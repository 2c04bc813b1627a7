import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountConfig, MappingConfig } from '../../src/config/types.js';
import { mapFrame, sourceFromDc09, zoneKey, type MapperConfig, type SourceFrame } from '../../src/mapper/index.js';
import { CID_CODES, formatCidData } from '../../src/protocols/contact-id/index.js';
import { decodePayload } from '../../src/protocols/decode.js';
import { buildRequest, parseFrame } from '../../src/protocols/dc09/index.js';
import { SIA_CODES } from '../../src/protocols/sia/index.js';
import { validatePartnerEvent } from '../../src/sink/partner-event-schema.js';

const receivedAt = new Date('2026-11-26T12:00:00.000Z');

function account(over: Partial<AccountConfig> = {}): AccountConfig {
  return {
    keyEncoding: 'hex',
    locationId: 'Z6RSOG',
    recorderId: 'Z6RANV',
    cameraId: 'cam-default',
    zones: { '15': { cameraId: '2fe519b4-2438-4aa1-b051-87cf22bb', recorderId: 'REC-15', name: 'Back door' } },
    users: { '3': 'Alice' },
    signalToMonitoringCenter: { alarm: true, trouble: false, arming: false },
    uploads: { snapshots: 0, shortMp4: false, eventMp4: false },
    ...over,
  };
}
const mapping = (over: Partial<MappingConfig> = {}): MappingConfig => ({ codes: {}, forwardUnknown: false, ...over });
const config = (over: Partial<MapperConfig> = {}): MapperConfig => ({ accounts: { '1234': account() }, mapping: mapping(), ...over });

/** Decodes a clear DC-09 frame with the given data and returns the mapper's input. */
function frameFor(token: 'SIA-DCS' | 'ADM-CID', data: string, extra: { timestamp?: Date | null; account?: string } = {}): SourceFrame {
  const acct = extra.account ?? '1234';
  const bytes = buildRequest({
    token,
    sequence: '0001',
    line: '0',
    account: acct,
    data,
    timestamp: extra.timestamp === undefined ? receivedAt : extra.timestamp,
  });
  const parsed = parseFrame(bytes);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const payload = decodePayload(parsed.message);
  if (payload.dataError) throw new Error(payload.dataError);
  return sourceFromDc09(parsed.message, payload.events, {
    account: acct.toUpperCase(),
    receivedAt,
    peer: '127.0.0.1:5000',
    transport: 'tcp',
    raw: bytes.toString('latin1'),
    skewFlagged: false,
  });
}

function expectValid(body: unknown) {
  const v = validatePartnerEvent(body);
  expect(v.ok, JSON.stringify(v)).toBe(true);
}

describe('every built-in code maps to a valid body or an explicit reason', () => {
  for (const [code, info] of SIA_CODES) {
    it(`SIA ${code} (${info.category})`, () => {
      const [mapped] = mapFrame(frameFor('SIA-DCS', `#1234|Nri1/${code}15`), config());
      expect(mapped).toBeDefined();
      if (mapped!.forwarded) expectValid(mapped!.body);
      else expect(['ignored', 'unknown-code']).toContain(mapped!.reason);
    });
  }
  for (const info of CID_CODES.values()) {
    for (const q of ['1', '3', '6']) {
      it(`Contact ID ${q}${info.code}`, () => {
        const [mapped] = mapFrame(
          frameFor('ADM-CID', formatCidData({ account: '1234', qualifier: q, code: info.code, group: '01', zone: '015' })),
          config(),
        );
        if (mapped!.forwarded) expectValid(mapped!.body);
        else expect(['ignored', 'unknown-code']).toContain(mapped!.reason);
      });
    }
  }
});

describe('built-in classification', () => {
  const cases: [string, 'SIA-DCS' | 'ADM-CID', string, unknown][] = [
    ['burglary alarm', 'SIA-DCS', '#1234|Nri1/BA15', { event_type: 'alarm', event_status: 'active' }],
    ['burglary restore', 'SIA-DCS', '#1234|Nri1/BR15', { event_type: 'alarm', event_status: 'inactive' }],
    ['AC trouble', 'SIA-DCS', '#1234|NAT', { event_type: 'trouble', event_status: 'active' }],
    ['AC restore', 'SIA-DCS', '#1234|NAR', { event_type: 'trouble', event_status: 'inactive' }],
    ['closing = armed', 'SIA-DCS', '#1234|Nri1/id3/CL3', { event_type: 'arming', event_status: 'active' }],
    ['opening = disarmed', 'SIA-DCS', '#1234|Nri1/OP3', { event_type: 'arming', event_status: 'inactive' }],
    ['CID burglary', 'ADM-CID', '#1234|1130 01 015', { event_type: 'alarm', event_status: 'active' }],
    ['CID burglary restore', 'ADM-CID', '#1234|3130 01 015', { event_type: 'alarm', event_status: 'inactive' }],
    ['CID 3401 = closing (armed)', 'ADM-CID', '#1234|3401 01 003', { event_type: 'arming', event_status: 'active' }],
    ['CID 1401 = opening (disarmed)', 'ADM-CID', '#1234|1401 01 003', { event_type: 'arming', event_status: 'inactive' }],
    ['CID fire supervisory', 'ADM-CID', '#1234|1200 01 015', { event_type: 'trouble', event_status: 'active' }],
  ];
  for (const [name, token, data, expected] of cases) {
    it(name, () => {
      const [mapped] = mapFrame(frameFor(token, data), config());
      expect(mapped!.forwarded).toBe(true);
      if (mapped!.forwarded) expect(mapped!.body).toMatchObject(expected as object);
    });
  }

  it('does not forward tests, system, access or bypass', () => {
    for (const data of ['#1234|Nri0/RP0000', '#1234|NRR', '#1234|NDG1', '#1234|Nri1/BB15']) {
      const [mapped] = mapFrame(frameFor('SIA-DCS', data), config());
      expect(mapped).toMatchObject({ forwarded: false, reason: 'ignored' });
    }
  });

  it('does not forward unknown codes unless configured, then as trouble', () => {
    const frame = frameFor('ADM-CID', '#1234|1900 00 001');
    expect(mapFrame(frame, config())[0]).toMatchObject({ forwarded: false, reason: 'unknown-code', configKey: 'mapping.codes["cid:900"]' });
    expect(mapFrame(frameFor('SIA-DCS', '#1234|NQQ1'), config())[0]).toMatchObject({
      forwarded: false,
      reason: 'unknown-code',
      configKey: 'mapping.codes["sia:QQ"]',
    });
    const [forwarded] = mapFrame(frame, config({ mapping: mapping({ forwardUnknown: true }) }));
    expect(forwarded!.forwarded && forwarded!.body).toMatchObject({ event_type: 'trouble', event_status: 'active' });
  });
});

describe('resolution of zones, users, areas and ids', () => {
  it('uses the zone camera and recorder, zone name and numeric zone matching', () => {
    for (const zone of ['15', '015', '0015']) {
      const [mapped] = mapFrame(frameFor('SIA-DCS', `#1234|Nri2/BA${zone}`), config());
      expect(mapped!.forwarded).toBe(true);
      if (!mapped!.forwarded) return;
      expect(mapped!.body).toMatchObject({ location_id: 'Z6RSOG', recorder_id: 'REC-15', camera_id: '2fe519b4-2438-4aa1-b051-87cf22bb' });
      expect(mapped!.body.payload).toMatchObject({ zone, zoneName: 'Back door', area: '2' });
    }
  });

  it('falls back to the account camera for other zones', () => {
    const [mapped] = mapFrame(frameFor('ADM-CID', '#1234|1130 01 007'), config());
    expect(mapped!.forwarded && mapped!.body).toMatchObject({ camera_id: 'cam-default', recorder_id: 'Z6RANV' });
  });

  it('names the user and omits the recorder on arming events', () => {
    const [mapped] = mapFrame(frameFor('ADM-CID', '#1234|3401 02 003'), config());
    expect(mapped!.forwarded).toBe(true);
    if (!mapped!.forwarded) return;
    expect(mapped!.body.recorder_id).toBeUndefined();
    expect(mapped!.body.camera_id).toBe('cam-default');
    expect(mapped!.body.payload).toMatchObject({ user: '003', userName: 'Alice', area: '02', qualifier: '3' });
  });

  it('takes the signal flag from the account per type, and from an override', () => {
    const alarm = mapFrame(frameFor('SIA-DCS', '#1234|NBA1'), config())[0]!;
    const trouble = mapFrame(frameFor('SIA-DCS', '#1234|NAT'), config())[0]!;
    expect(alarm.forwarded && alarm.body.should_signal_to_monitoring_center).toBe(true);
    expect(trouble).toMatchObject({ forwarded: true, body: { should_signal_to_monitoring_center: false } });
    const overridden = mapFrame(
      frameFor('SIA-DCS', '#1234|NAT'),
      config({ mapping: mapping({ codes: { 'sia:AT': { type: 'trouble', signal: true } } }) }),
    )[0]!;
    expect(overridden.forwarded && overridden.body.should_signal_to_monitoring_center).toBe(true);
    // An override type that names an Object.prototype member is just an unknown type: no signal.
    const odd = mapFrame(
      frameFor('SIA-DCS', '#1234|NAT'),
      config({ mapping: mapping({ codes: { 'sia:AT': { type: 'constructor', status: 'active' } } }) }),
    )[0]!;
    expect(odd).toMatchObject({ forwarded: true, body: { event_type: 'constructor', should_signal_to_monitoring_center: false } });
  });

  it('applies zone uploads over account uploads, none for arming', () => {
    const cfg = config({
      accounts: {
        '1234': account({
          uploads: { snapshots: 1, shortMp4: false, eventMp4: false },
          zones: { '15': { cameraId: 'c15', uploads: { snapshots: 3, shortMp4: true, eventMp4: true } } },
        }),
      },
    });
    const zone = mapFrame(frameFor('SIA-DCS', '#1234|NBA15'), cfg)[0]!;
    const other = mapFrame(frameFor('SIA-DCS', '#1234|NBA2'), cfg)[0]!;
    const arming = mapFrame(frameFor('SIA-DCS', '#1234|NCL1'), cfg)[0]!;
    expect(zone.forwarded && zone.body).toMatchObject({ upload_snapshot_count: 3, upload_short_mp4: true, upload_event_mp4: true });
    expect(other.forwarded && other.body.upload_snapshot_count).toBe(1);
    expect(arming.forwarded && arming.body.upload_snapshot_count).toBe(0);
  });

  it('takes event_time from the panel timestamp, the H block, else the receipt time', () => {
    const panel = new Date('2026-11-26T11:59:50.000Z');
    const withTs = mapFrame(frameFor('SIA-DCS', '#1234|NBA1', { timestamp: panel }), config())[0]!;
    expect(withTs.forwarded && withTs.body.event_time).toBe(panel.toISOString());
    const without = mapFrame(frameFor('SIA-DCS', '#1234|NBA1', { timestamp: null }), config())[0]!;
    expect(without.forwarded && without.body.event_time).toBe(receivedAt.toISOString());
    const h = { ...frameFor('SIA-DCS', '#1234|NBA1'), occurredAt: new Date('2026-11-26T11:58:00Z') };
    const withH = mapFrame(h, config())[0]!;
    expect(withH.forwarded && withH.body.event_time).toBe('2026-11-26T11:58:00.000Z');
  });
});

describe('overrides', () => {
  it('cid:Q:EEE beats cid:EEE, sia:XX and "ignore"', () => {
    const cfg = config({
      mapping: mapping({
        codes: {
          'cid:137': { type: 'trouble' },
          'cid:401': { type: 'trouble', status: 'inactive' },
          'cid:1:401': { type: 'arming', status: 'active' },
          'sia:PE': { type: 'alarm', status: 'active' },
          'sia:BA': 'ignore',
        },
      }),
    });
    const tamper = mapFrame(frameFor('ADM-CID', '#1234|1137 01 015'), cfg)[0]!;
    const tamperRestore = mapFrame(frameFor('ADM-CID', '#1234|3137 01 015'), cfg)[0]!;
    const open = mapFrame(frameFor('ADM-CID', '#1234|1401 01 003'), cfg)[0]!;
    const close = mapFrame(frameFor('ADM-CID', '#1234|3401 01 003'), cfg)[0]!;
    const pe = mapFrame(frameFor('SIA-DCS', '#1234|Nri1/PE501'), cfg)[0]!;
    const ba = mapFrame(frameFor('SIA-DCS', '#1234|NBA1'), cfg)[0]!;
    expect(tamper.forwarded && tamper.body).toMatchObject({ event_type: 'trouble', event_status: 'active' });
    expect(tamperRestore.forwarded && tamperRestore.body).toMatchObject({ event_type: 'trouble', event_status: 'inactive' });
    // 1401 has its own key and wins over cid:401; 3401 has none and takes cid:401.
    expect(open.forwarded && open.body).toMatchObject({ event_type: 'arming', event_status: 'active' });
    expect(close.forwarded && close.body).toMatchObject({ event_type: 'trouble', event_status: 'inactive' });
    expect(pe.forwarded && pe.body).toMatchObject({ event_type: 'alarm', event_status: 'active' });
    expect(ba).toMatchObject({ forwarded: false, reason: 'ignored' });
  });
});

describe('unmapped input', () => {
  it('an account without locationId names the key to add', () => {
    const [mapped] = mapFrame(frameFor('SIA-DCS', '#9999|NBA1', { account: '9999' }), config());
    expect(mapped).toMatchObject({ forwarded: false, reason: 'unmapped-account', configKey: 'accounts["9999"].locationId' });
  });

  it('an unresolvable camera names the zone key to add', () => {
    const cfg = config({ accounts: { '1234': account({ cameraId: undefined }) } });
    const [mapped] = mapFrame(frameFor('SIA-DCS', '#1234|NBA007'), cfg);
    expect(mapped).toMatchObject({ forwarded: false, reason: 'unmapped-camera', configKey: 'accounts["1234"].zones["7"].cameraId' });
  });

  it('placeholder ids only when explicitly enabled', () => {
    const [mapped] = mapFrame(
      frameFor('SIA-DCS', '#9999|NBA7', { account: '9999' }),
      config({ mapping: mapping({ placeholderIds: true }) }),
    );
    expect(mapped!.forwarded && mapped!.body).toMatchObject({ location_id: 'account-9999', camera_id: 'account-9999-zone-7' });
  });
});

describe('deterministic event ids', () => {
  it('same frame twice → same ids; different events → different ids', () => {
    const a = mapFrame(frameFor('SIA-DCS', '#1234|Nri1/BA01/BA02'), config());
    const b = mapFrame(frameFor('SIA-DCS', '#1234|Nri1/BA01/BA02'), config());
    const ids = (m: typeof a) => m.map((e) => (e.forwarded ? e.body.event_id : e.eventId));
    expect(ids(a)).toEqual(ids(b));
    expect(new Set(ids(a)).size).toBe(2);
    const later = mapFrame(frameFor('SIA-DCS', '#1234|Nri1/BA01/BA02', { timestamp: new Date(receivedAt.getTime() + 1000) }), config());
    expect(ids(later)[0]).not.toBe(ids(a)[0]);
  });

  it('a retransmission with another sequence number keeps the id', () => {
    const f1 = frameFor('SIA-DCS', '#1234|NBA1');
    const f2 = { ...f1, sequence: '0002', raw: 'different bytes', receivedAt: new Date(receivedAt.getTime() + 11_000) };
    const id = (f: SourceFrame) => {
      const m = mapFrame(f, config())[0]!;
      return m.forwarded ? m.body.event_id : m.eventId;
    };
    expect(id(f2)).toBe(id(f1));
  });

  it('zone keys normalise numerically', () => {
    expect(zoneKey('0015')).toBe('15');
    expect(zoneKey('A1')).toBe('A1');
  });
});

describe('property: any generated SIA or CID frame maps to valid bodies or a documented reason', () => {
  const reasons = ['ignored', 'unknown-code', 'unmapped-account', 'unmapped-camera'];
  const siaCode = fc.oneof(fc.constantFrom(...SIA_CODES.keys()), fc.stringMatching(/^[A-Z]{2}$/));
  const siaData = fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom('', 'ri1/', 'id3/', 'pi2/'), siaCode, fc.stringMatching(/^\d{0,4}$/)), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([items]) => `#1234|N${items.map(([mod, code, addr]) => `${mod}${code}${addr}`).join('/')}`);
  const cidData = fc
    .record({
      qualifier: fc.constantFrom('1', '3', '6'),
      code: fc.oneof(fc.constantFrom(...CID_CODES.keys()), fc.stringMatching(/^[0-9]{3}$/)),
      group: fc.stringMatching(/^\d{2}$/),
      zone: fc.stringMatching(/^\d{3}$/),
    })
    .map((f) => formatCidData({ account: '1234', ...f }));
  it('holds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          siaData.map((d) => ['SIA-DCS', d] as const),
          cidData.map((d) => ['ADM-CID', d] as const),
        ),
        fc.boolean(),
        ([token, data], known) => {
          const cfg = known ? config() : config({ accounts: {} });
          const frame = frameFor(token, data);
          const mapped = mapFrame(frame, cfg);
          expect(mapped).toHaveLength(frame.events.length);
          for (const m of mapped) {
            if (m.forwarded) expectValid(m.body);
            else expect(reasons).toContain(m.reason);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
