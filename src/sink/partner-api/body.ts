/** Reading HTTP response bodies (the Partner API's, a running bridge's): bounded, parsed leniently. */
import type { Dispatcher } from 'undici';

/** Reads a whole response body up to `limit` bytes; a larger body is destroyed and reported as `null`. */
export async function readBody(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

/** The body as JSON, or undefined when it is empty, missing or not JSON. */
export function parseJson(buf: Buffer | null): unknown {
  if (!buf || buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A non-empty string field, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
