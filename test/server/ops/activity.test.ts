/** The console's in-memory activity recorder: per-minute counts for an hour, bounded rings, live subscribers. */
import { describe, expect, it } from 'vitest';
import type { MappedEvent, SourceFrame } from '../../../src/mapper/index.js';
import { ActivityRecorder, CHART_MINUTES, type FrameActivity, type LiveItem } from '../../../src/server/ops/activity.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

const frame = (
  seconds: number,
  account: string | null,
  reply: FrameActivity['reply'] = 'ACK',
  bytes = Buffer.from(`frame-${seconds}`),
): FrameActivity => ({
  at: at(seconds),
  peer: '127.0.0.1:5000',
  transport: 'tcp',
  account,
  reply,
  reason: reply === 'ACK' ? 'accepted' : 'unknown-account',
  bytes,
});

function mapped(account: string, seconds: number, forwarded = true): [MappedEvent, SourceFrame] {
  const panelEvent = {
    protocol: 'sia',
    code: 'BA',
    address: '3',
    addressKind: 'zone',
    area: null,
    user: null,
    modifiers: {},
    text: null,
    function: 'N',
    category: 'alarm',
    description: 'Burglary alarm',
    known: true,
  } as const;
  const source = { receivedAt: at(seconds), peer: '127.0.0.1:5000' } as SourceFrame;
  const event: MappedEvent = forwarded
    ? {
        forwarded: true,
        index: 0,
        account,
        panelEvent,
        rule: 'BA',
        body: { event_id: `id-${seconds}`, event_type: 'alarm', event_status: 'active' } as never,
        media: { snapshotUrl: 'http://u:secret@cam/snap', password: 'secret' },
      }
    : {
        forwarded: false,
        index: 0,
        account,
        panelEvent,
        eventId: `id-${seconds}`,
        reason: 'unmapped-camera',
        message: 'no camera',
        configKey: `accounts["${account}"].cameraId`,
        source,
      };
  return [event, source];
}

describe('ActivityRecorder', () => {
  it('counts frames, rejections and events per minute over the last hour, oldest first, zeros where quiet', () => {
    const r = new ActivityRecorder();
    r.frame(frame(1, '1234'));
    r.frame(frame(2, '1234', 'NAK'));
    r.frame(frame(65, '1234'));
    r.event(...mapped('1234', 65));
    const series = r.series(at(90));
    expect(series).toHaveLength(CHART_MINUTES);
    expect(series.at(-1)).toEqual({ at: T0 + 60_000, frames: 1, events: 1, rejected: 0 });
    expect(series.at(-2)).toEqual({ at: T0, frames: 2, events: 0, rejected: 1 });
    expect(series.slice(0, -2).every((m) => m.frames === 0 && m.events === 0)).toBe(true);
    // An hour later the early minutes have scrolled out of the chart.
    expect(r.series(at(3700)).reduce((n, m) => n + m.frames, 0)).toBe(0);
  });

  it('keeps at most an hour of minutes however long it runs', () => {
    const r = new ActivityRecorder();
    for (let minute = 0; minute < 200; minute++) r.frame(frame(minute * 60, null));
    expect(r.series(at(199 * 60)).reduce((n, m) => n + m.frames, 0)).toBe(CHART_MINUTES);
  });

  it('records last seen and peer only from ACKed frames, and counts events today (UTC)', () => {
    const r = new ActivityRecorder();
    r.frame(frame(1, '1234'));
    r.frame(frame(5, '1234', 'NAK'));
    r.event(...mapped('1234', 1));
    const a = r.accountActivity('1234', at(10))!;
    expect(a).toMatchObject({ account: '1234', lastSeen: at(1), peer: '127.0.0.1:5000', eventsToday: 1 });
    expect(a.frames.map((f) => f.reply)).toEqual(['ACK', 'NAK']);
    expect(r.accountActivity('1234', at(86_400))!.eventsToday).toBe(0);
    expect(r.accountActivity('9999')).toBeNull();
  });

  it('bounds the rings per account and the number of accounts (least recently active forgotten first)', () => {
    const r = new ActivityRecorder({ eventsPerAccount: 3, framesPerAccount: 2, accounts: 2 });
    for (let i = 0; i < 10; i++) {
      r.frame(frame(i, '1111'));
      r.event(...mapped('1111', i));
    }
    const a = r.accountActivity('1111')!;
    expect(a.events.map((e) => e.eventId)).toEqual(['id-7', 'id-8', 'id-9']);
    expect(a.frames.map((f) => f.bytes.toString())).toEqual(['frame-8', 'frame-9']);
    r.frame(frame(20, '2222'));
    r.frame(frame(21, '1111'));
    r.frame(frame(22, '3333'));
    expect(r.accountNames().sort()).toEqual(['1111', '3333']);
  });

  it('keeps a frame byte for byte, bytes above 0x7f and NULs included', () => {
    const r = new ActivityRecorder();
    const bytes = Buffer.from([0x0a, 0x00, 0x7f, 0x80, 0xc3, 0xa9, 0xff, 0x0d]);
    r.frame(frame(1, '1234', 'ACK', bytes));
    expect(r.accountActivity('1234')!.frames[0]!.bytes.equals(bytes)).toBe(true);
  });

  it('at the account cap forgets the least recently active 1 % at once, however often the others were seen', () => {
    const r = new ActivityRecorder({ accounts: 200 });
    for (let i = 0; i < 200; i++) r.frame(frame(i, `A${i}`));
    // The first two are seen again (often): the next two in age are now the least recently active.
    for (let n = 0; n < 3; n++) {
      r.frame(frame(300 + n, 'A0'));
      r.frame(frame(300 + n, 'A1'));
    }
    r.frame(frame(400, 'NEW'));
    const names = new Set(r.accountNames());
    expect(names.size).toBe(199);
    expect(['A0', 'A1', 'NEW', 'A4', 'A199'].every((a) => names.has(a))).toBe(true);
    expect(names.has('A2') || names.has('A3')).toBe(false);
  });

  it('copies a kept frame out of its socket chunk', () => {
    const r = new ActivityRecorder();
    const chunk = Buffer.from('xxframe-1yy');
    r.frame(frame(1, '1234', 'ACK', chunk.subarray(2, 9)));
    chunk.fill(0);
    expect(r.accountActivity('1234')!.frames[0]!.bytes.toString()).toBe('frame-1');
  });

  it('tells subscribers of events and rejections (never media or body), until they unsubscribe', () => {
    const r = new ActivityRecorder();
    const seen: LiveItem[] = [];
    const stop = r.subscribe((item) => seen.push(item));
    r.event(...mapped('1234', 1));
    r.event(...mapped('5555', 2, false));
    r.frame(frame(3, '1234'));
    r.frame(frame(4, null, 'DUH'));
    stop();
    r.event(...mapped('1234', 5));
    expect(seen).toEqual([
      {
        kind: 'event',
        at: at(1).toISOString(),
        account: '1234',
        eventId: 'id-1',
        code: 'BA',
        description: 'Burglary alarm',
        category: 'alarm',
        zone: '3',
        forwarded: true,
        outcome: 'alarm active',
        configKey: null,
        peer: '127.0.0.1:5000',
      },
      {
        kind: 'event',
        at: at(2).toISOString(),
        account: '5555',
        eventId: 'id-2',
        code: 'BA',
        description: 'Burglary alarm',
        category: 'alarm',
        zone: '3',
        forwarded: false,
        outcome: 'unmapped-camera',
        configKey: 'accounts["5555"].cameraId',
        peer: '127.0.0.1:5000',
      },
      {
        kind: 'rejection',
        at: at(4).toISOString(),
        account: null,
        peer: '127.0.0.1:5000',
        transport: 'tcp',
        reply: 'DUH',
        reason: 'unknown-account',
      },
    ]);
    expect(JSON.stringify(seen)).not.toContain('secret');
  });
});
