import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSink } from '../../src/sink/file-sink.js';
import type { OutgoingEvent } from '../../src/sink/types.js';

function event(n: number): OutgoingEvent {
  return {
    account: '1234',
    body: {
      version: '1.0',
      location_id: 'LOC1',
      camera_id: 'CAM1',
      event_id: `evt-${n}`,
      event_type: 'alarm',
      event_status: 'active',
      event_time: '2026-01-15T10:00:00.000Z',
      sent_at: '',
      should_signal_to_monitoring_center: true,
      upload_snapshot_count: 0,
      upload_short_mp4: false,
      upload_event_mp4: false,
      payload: { code: 'BA', zone: n, text: 'line\nbreak "quoted"' },
    },
  };
}

describe('createFileSink', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-sink-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes sent_at in the body's own key order and leaves the event as it was handed in", async () => {
    const path = join(dir, 'events.ndjson');
    const sink = createFileSink(path);
    const given = event(7);
    const before = structuredClone(given);
    const started = Date.now();
    expect(await sink.deliver(given)).toEqual({ kind: 'accepted' });
    await sink.close();
    expect(given).toEqual(before);
    const line = JSON.parse((await readFile(path, 'utf8')).trim()) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(Object.keys(given.body));
    const sentAt = Date.parse(String(line.sent_at));
    expect(sentAt).toBeGreaterThanOrEqual(started - 1);
    expect(sentAt).toBeLessThanOrEqual(Date.now());
  });

  it('creates the parent directory and writes one valid JSON body per line with sent_at', async () => {
    const path = join(dir, 'nested', 'deeper', 'events.ndjson');
    const at = new Date('2026-02-01T12:34:56.789Z');
    const sink = createFileSink(path, { now: () => at });
    expect(sink.name).toBe('file');
    expect(await sink.deliver(event(1))).toEqual({ kind: 'accepted' });
    expect(await sink.deliver(event(2))).toEqual({ kind: 'accepted' });
    await sink.close();

    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const bodies = lines.map((l) => JSON.parse(l));
    expect(bodies[0]).toEqual({ ...event(1).body, sent_at: '2026-02-01T12:34:56.789Z' });
    expect(bodies[1].event_id).toBe('evt-2');
    expect(bodies[1].payload.text).toBe('line\nbreak "quoted"');
  });

  it('serialises concurrent writes in call order without interleaving', async () => {
    const path = join(dir, 'events.ndjson');
    const sink = createFileSink(path);
    const big = (n: number): OutgoingEvent => {
      const e = event(n);
      e.body.payload = { filler: 'x'.repeat(20_000 + n) };
      return e;
    };
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => sink.deliver(big(i))));
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    await sink.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(200);
    lines.forEach((line, i) => {
      const body = JSON.parse(line);
      expect(body.event_id).toBe(`evt-${i}`);
      expect(body.payload.filler).toHaveLength(20_000 + i);
      expect(Number.isNaN(Date.parse(body.sent_at))).toBe(false);
    });
  });

  it('writes multi-byte text of a batch byte for byte, each line ending in one newline', async () => {
    const path = join(dir, 'events.ndjson');
    const sink = createFileSink(path);
    const texts = ['Zone 3 – Küche', '火災報知器', 'emoji 🚨 alarm', 'plain'];
    const outcomes = await Promise.all(
      texts.map((text, i) => {
        const e = event(i);
        e.body.payload = { text };
        return sink.deliver(e);
      }),
    );
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    await sink.close();
    const raw = await readFile(path);
    expect(raw.at(-1)).toBe(0x0a);
    const lines = raw.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l).payload.text)).toEqual(texts);
  });

  it('appends to an existing file, and refuses deliveries after close', async () => {
    const path = join(dir, 'events.ndjson');
    await writeFile(path, '{"existing":true}\n');
    const sink = createFileSink(path);
    await sink.deliver(event(7));
    await sink.close();
    await sink.close();
    expect((await sink.deliver(event(8))).kind).toBe('retry');
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).event_id ?? 'old')).toEqual(['old', 'evt-7']);
  });

  it('reports a write failure as retry', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'not a directory');
    const sink = createFileSink(join(blocker, 'events.ndjson'));
    const outcome = await sink.deliver(event(1));
    expect(outcome.kind).toBe('retry');
    await sink.close();
  });
});
