/**
 * Deterministic event ids (issue #3): the same panel event always yields the same id — across
 * retransmissions, retries and restarts — and distinct events never share one.
 */
import { hash } from 'node:crypto';
import { isoOf } from '../iso-time.js';
import type { SourceFrame } from './frame.js';

export interface EventIdInput {
  account: string;
  token: string;
  data: string;
  /** Panel timestamp when the frame had one, else the receipt time. */
  time: Date;
  /** Position of the event within its frame. */
  index: number;
}

/** 32 hex digits (128 bits of SHA-256) over the fields, each terminated so no two inputs concatenate alike. */
export function eventId({ account, token, data, time, index }: EventIdInput): string {
  // latin1, as ids have always been hashed: one byte per character, so stored ids stay valid across versions.
  const input = Buffer.from(`${account.toUpperCase()}\u0000${token}\u0000${data}\u0000${isoOf(time)}\u0000${index}`, 'latin1');
  return hash('sha256', input, 'hex').slice(0, 32);
}

/** The id of a frame's `index`-th event: the panel timestamp when the frame had one, else the receipt time. */
export function frameEventId(frame: Pick<SourceFrame, 'account' | 'token' | 'data' | 'timestamp' | 'receivedAt'>, index: number): string {
  return eventId({ account: frame.account, token: frame.token, data: frame.data, time: frame.timestamp ?? frame.receivedAt, index });
}
