import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import {
  createLogger,
  describeError,
  errorMessage,
  errorStack,
  isoTimeOncePerMs,
  REDACTED,
  redactUrl,
  TurnBatchedDestination,
} from '../src/log.js';

function capture(level = 'trace') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, time and message', () => {
    const { logger, lines, records } = capture('info');
    logger.info({ event_id: 'e1' }, 'hello');
    logger.debug('not written at info');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const [rec] = records();
    expect(rec).toMatchObject({ level: 30, msg: 'hello', event_id: 'e1' });
    expect(typeof rec!.time).toBe('string');
  });

  it('stamps each line with the ISO time of its millisecond, formatted once per millisecond', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-02T09:00:00.000Z'), toFake: ['Date'] });
    try {
      const time = isoTimeOncePerMs();
      const first = time();
      expect(first).toBe(',"time":"2026-12-02T09:00:00.000Z"');
      expect(time()).toBe(first); // same millisecond: the same text, not built again
      vi.advanceTimersByTime(1);
      expect(time()).toBe(',"time":"2026-12-02T09:00:00.001Z"');
      vi.setSystemTime(Date.parse('2026-12-02T08:59:59.999Z')); // a clock set back is followed too
      expect(time()).toBe(',"time":"2026-12-02T08:59:59.999Z"');
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts a Node writable stream as destination', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    createLogger({ level: 'info', destination: stream }).info({ apiKey: 'SECRET-k' }, 'to a stream');
    await new Promise((r) => setImmediate(r));
    const text = Buffer.concat(chunks).toString();
    expect(JSON.parse(text)).toMatchObject({ msg: 'to a stream', apiKey: REDACTED });
  });

  const secretKeys = [
    'access_token',
    'client_assertion',
    'assertion',
    'client_secret',
    'authorization',
    'x-api-key',
    'privateKey',
    'key',
    'apiKey',
    'password',
    'token',
    'secret',
    'upload_put_url',
    'callback_put_url',
  ];

  it.each(secretKeys)('redacts %s at the top level and one level down', (name) => {
    const { logger, lines, records } = capture();
    logger.info({ [name]: 'SECRET-top', nested: { [name]: 'SECRET-nested' }, keep: 'visible' }, 'x');
    expect(lines.join('')).not.toContain('SECRET');
    const [rec] = records();
    expect(rec![name]).toBe(REDACTED);
    expect((rec!.nested as Record<string, unknown>)[name]).toBe(REDACTED);
    expect(rec!.keep).toBe('visible');
  });

  it('redacts credential headers and the upload URLs of a 201 response', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        headers: { Authorization: 'Bearer SECRET-1', 'X-API-KEY': 'SECRET-2', 'content-type': 'application/json' },
        req: { headers: { authorization: 'Bearer SECRET-3', 'x-api-key': 'SECRET-4' } },
        uploads: {
          snapshots: [{ seq: 1, upload_put_url: 'https://s3/x?X-Amz-Signature=SECRET-5', callback_put_url: 'https://c?SECRET-6' }],
          short_mp4: { upload_put_url: 'https://s3/y?SECRET-7', callback_put_url: 'https://c?SECRET-8' },
          event_mp4: { upload_put_url: 'https://s3/z?SECRET-9', callback_put_url: 'https://c?SECRET-10' },
        },
        response: { uploads: { snapshots: [{ seq: 1, upload_put_url: 'https://s3/x?SECRET-11' }] } },
      },
      'response',
    );
    const out = lines.join('');
    expect(out).not.toContain('SECRET');
    expect(out).toContain('application/json');
    expect(out).toContain('"seq":1');
  });

  it('child loggers keep the redaction', () => {
    const { logger, lines } = capture();
    logger.child({ component: 'x' }).warn({ access_token: 'SECRET-child' }, 'child');
    expect(lines.join('')).not.toContain('SECRET');
    expect(lines.join('')).toContain('"component":"x"');
  });
});

describe('TurnBatchedDestination (one write per turn of the event loop into sonic-boom)', () => {
  /** A buffered destination that records each write it is given. */
  function recordingInner() {
    const writes: string[] = [];
    let syncFlushes = 0;
    return {
      writes,
      syncFlushes: () => syncFlushes,
      inner: { write: (s: string) => (writes.push(s), true), flushSync: () => void syncFlushes++ },
    };
  }

  it('passes the lines of one turn on as one write, in order', async () => {
    const { writes, inner } = recordingInner();
    const logger = createLogger({ level: 'info', destination: inner as unknown as pino.DestinationStream });
    for (let i = 0; i < 50; i++) logger.info({ n: i }, 'line');
    expect(writes).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    const lines = writes[0]!
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { n: number });
    expect(lines.map((l) => l.n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    logger.info({ n: 50 }, 'next turn');
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(2);
  });

  it('flushSync passes pending lines on at once (the exit path)', () => {
    const { writes, inner, syncFlushes } = recordingInner();
    const destination = new TurnBatchedDestination(inner);
    destination.write('a\n');
    destination.write('b\n');
    destination.flushSync();
    expect(writes).toEqual(['a\nb\n']);
    expect(syncFlushes()).toBe(1);
  });

  it('a destination that throws (already ended) drops the lines instead of throwing from the event loop', async () => {
    const inner = {
      write: () => {
        throw new Error('SonicBoom destroyed');
      },
      flushSync: () => undefined,
    };
    const destination = new TurnBatchedDestination(inner);
    const notices: string[] = [];
    const stderrWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (notices.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      destination.write('a\n');
      await new Promise((r) => setImmediate(r)); // an exception here would fail the test as uncaught
      destination.write('b\n'); // pending when flushSync runs: it drains into the failing destination too
      expect(() => destination.flushSync()).not.toThrow();
    } finally {
      process.stderr.write = stderrWrite;
    }
    expect(notices).toEqual(['log destination failed, lines dropped: SonicBoom destroyed\n']);
  });

  it('every line reaches a real pino file destination, in order, secrets redacted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-batch-'));
    try {
      const file = join(dir, 'bridge.log');
      const destination = pino.destination({ dest: file, sync: false, mkdir: true });
      const logger = createLogger({ level: 'info', destination });
      for (let i = 0; i < 2000; i++) {
        logger.info({ n: i, key: 'SECRET-k' }, 'event');
        if (i % 300 === 0) await new Promise((r) => setImmediate(r)); // several turns, several batches
      }
      await new Promise((r) => setImmediate(r));
      const closed = once(destination, 'close');
      destination.end();
      await closed;
      const text = await readFile(file, 'utf8');
      const lines = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { n: number; key: string });
      expect(lines.map((l) => l.n)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      expect(text).not.toContain('SECRET');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('redactUrl', () => {
  it('drops the query string, fragment and userinfo', () => {
    expect(redactUrl('https://bucket.s3.amazonaws.com/a/b.jpg?X-Amz-Signature=abc&X-Amz-Credential=k#frag')).toBe(
      'https://bucket.s3.amazonaws.com/a/b.jpg',
    );
    expect(redactUrl('http://admin:hunter2@10.0.0.5:8080/snap.jpg?token=t')).toBe('http://10.0.0.5:8080/snap.jpg');
  });

  it('replaces what does not parse', () => {
    expect(redactUrl('not a url ?secret=1')).toBe('[invalid url]');
  });
});

describe('errorMessage and errorStack', () => {
  it('give the message (or stack) of an Error and the text of anything else thrown', () => {
    const err = new Error('disk full');
    expect(errorMessage(err)).toBe('disk full');
    expect(errorStack(err)).toMatch(/^Error: disk full\n\s+at /);
    const bare = Object.assign(new Error('no stack'), { stack: undefined });
    expect(errorStack(bare)).toBe('no stack');
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorStack(42)).toBe('42');
  });
});

describe('describeError', () => {
  it('keeps the code and message but strips URLs down to origin and path', () => {
    const err = Object.assign(new Error('failed to PUT https://u:p@h.example/x?sig=SECRET'), { code: 'E_TEST' });
    const text = describeError(err);
    expect(text).toBe('E_TEST: failed to PUT https://h.example/x');
  });
});
