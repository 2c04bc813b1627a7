import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { mediaType, readRequestBody, sameSecret, urlHost, type RequestBody } from '../../src/http/incoming.js';

/** Posts `chunks` (chunked, no declared length) to a real server that reads the body with `limit`. */
async function postChunked(chunks: string[], limit: number): Promise<{ read: RequestBody; status: number }> {
  let read: RequestBody | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    void readRequestBody(req, limit).then((body) => {
      read = body;
      res.writeHead(body.tooLarge ? 413 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'POST', path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });
    return { read: read!, status };
  } finally {
    server.close();
  }
}

describe('readRequestBody', () => {
  it('returns the whole body within the limit', async () => {
    const { read, status } = await postChunked(['{"a":', '1}'], 16);
    expect(status).toBe(200);
    expect(read).toEqual({ bytes: Buffer.from('{"a":1}'), tooLarge: false });
  });

  it('reads a chunked body past the limit to its end, so the client gets an answer', async () => {
    const { read, status } = await postChunked(['x'.repeat(10), 'y'.repeat(10), 'z'.repeat(10)], 15);
    expect(status).toBe(413);
    expect(read.tooLarge).toBe(true);
    expect(read.bytes.toString()).toBe('x'.repeat(10));
  });
});

describe('HTTP helpers', () => {
  it('urlHost reaches any-address binds over loopback and brackets IPv6 literals once', () => {
    expect(urlHost('0.0.0.0')).toBe('127.0.0.1');
    expect(urlHost('')).toBe('127.0.0.1');
    expect(urlHost('::')).toBe('[::1]');
    expect(urlHost('[::]')).toBe('[::1]');
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('[::1]')).toBe('[::1]');
    expect(urlHost('fe80::1')).toBe('[fe80::1]');
    expect(urlHost('192.168.1.2')).toBe('192.168.1.2');
    expect(urlHost('localhost')).toBe('localhost');
  });

  it('mediaType drops parameters and case', () => {
    expect(mediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaType(' text/plain ')).toBe('text/plain');
    expect(mediaType(undefined)).toBe('');
  });

  it('sameSecret compares whole secrets of any length', () => {
    expect(sameSecret('s3cret', 's3cret')).toBe(true);
    expect(sameSecret('s3cret', 's3cre')).toBe(false);
    expect(sameSecret('', 's3cret')).toBe(false);
    expect(sameSecret('S3cret', 's3cret')).toBe(false);
  });
});
