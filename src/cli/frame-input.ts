/** What `decode` and `map` share: reading frames from arguments or stdin, and the key / clock options. */
import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { parseKey } from '../protocols/dc09/index.js';
import { completeFrame, unescapeFrame } from '../protocols/escape.js';
import { UsageError } from '../usage-error.js';

export interface FrameInputArgs {
  frames?: string[];
  key?: string;
  'key-ascii'?: string;
  now?: string;
}

export function withFrameInputOptions<T>(y: Argv<T>) {
  return y
    .positional('frames', {
      type: 'string',
      array: true,
      describe: 'frames with C escapes (\\n \\r \\xHH \\\\); none: one per line on stdin',
    })
    .option('key', { type: 'string', describe: 'AES key as 32/48/64 hex digits, for encrypted frames' })
    .option('key-ascii', { type: 'string', describe: 'AES key as 16/24/32 characters, for encrypted frames' })
    .option('now', { type: 'string', describe: 'receiver clock for the reply policy (ISO 8601; default: now)' });
}

/** The inputs as frame bytes: arguments when given, else non-empty stdin lines. */
export async function* frameInputs(args: readonly string[] | undefined): AsyncGenerator<{ text: string; bytes: Buffer }> {
  if (args && args.length > 0) {
    for (const text of args) yield { text, bytes: completeFrame(unescapeFrame(text)) };
    return;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    yield { text: line, bytes: completeFrame(unescapeFrame(line)) };
  }
}

export { UsageError };

/** The key given with --key / --key-ascii, or null. Throws UsageError naming the option when invalid. */
/** `--key HEX` as a key, null when absent; a malformed key is a usage error. */
export function hexKeyOption(text: string | undefined): Buffer | null {
  if (text === undefined) return null;
  const parsed = parseKey(text, 'hex');
  if (!parsed.ok) throw new UsageError(`--key: ${parsed.error}`);
  return parsed.key;
}

export function keyFromArgs(args: FrameInputArgs): Buffer | null {
  if (args.key !== undefined && args['key-ascii'] !== undefined) throw new UsageError('give either --key or --key-ascii, not both');
  if (args.key !== undefined) return hexKeyOption(args.key);
  if (args['key-ascii'] !== undefined) {
    const parsed = parseKey(args['key-ascii'], 'ascii');
    if (!parsed.ok) throw new UsageError(`--key-ascii: ${parsed.error}`);
    return parsed.key;
  }
  return null;
}

export function clockFromArgs(args: FrameInputArgs): Date {
  if (args.now === undefined) return new Date();
  const date = new Date(args.now);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--now: expected an ISO 8601 time like 2026-01-31T12:00:00Z, found "${args.now}"`);
  return date;
}
