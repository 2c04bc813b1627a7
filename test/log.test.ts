import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, describeError, REDACTED, redactUrl } from '../src/log.js';

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
          snapshots: [
            { seq: 1, upload_put_url: 'https://s3/x?X-Amz-Signature=SECRET-5', callback_put_url: 'https://c?SECRET-6' },
          ],
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

describe('describeError', () => {
  it('keeps the code and message but strips URLs down to origin and path', () => {
    const err = Object.assign(new Error('failed to PUT https://u:p@h.example/x?sig=SECRET'), { code: 'E_TEST' });
    const text = describeError(err);
    expect(text).toBe('E_TEST: failed to PUT https://h.example/x');
  });
});
