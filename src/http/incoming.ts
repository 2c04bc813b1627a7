/** Small pieces every HTTP server of this project needs (the status server, the Partner API emulator). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface RequestBody {
  bytes: Buffer;
  /** The body went past the limit: `bytes` holds only what fit, the rest was read and dropped. */
  tooLarge: boolean;
}

/**
 * Reads a request body up to `limit` bytes. Past the limit it keeps reading and drops the bytes, so that a body
 * without a declared length (chunked) still gets an answer (413) instead of a cut connection; the server's request
 * timeout bounds how long that can take.
 */
export async function readRequestBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > limit) tooLarge = true;
    else chunks.push(bytes);
  }
  return { bytes: Buffer.concat(chunks), tooLarge };
}

/** Reads and drops a request body (keep-alive needs the body consumed before the next request). */
export async function drainRequest(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // dropped
  }
}

/** The media type of a content-type header, lower-case, without parameters ('' when absent). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The host part of a URL that reaches, from this machine, a server listening on `address`: any-address binds are
 * reached over loopback, IPv6 literals are bracketed (once).
 */
export function urlHost(address: string): string {
  if (address === '0.0.0.0' || address === '') return '127.0.0.1';
  if (address === '::' || address === '[::]') return '[::1]';
  if (address.startsWith('[')) return address;
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * An address (or host name) that only this machine reaches: 127.0.0.0/8, ::1 (bracketed or not), IPv4-mapped
 * 127.x, and `localhost`. A server bound there is not on the network; 0.0.0.0 and :: are every interface.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Compares a credential a client sent with the expected one in constant time (over digests: lengths do not leak). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
