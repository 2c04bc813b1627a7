/**
 * Payload decoding by ID token (docs/dc09.md §8): SIA-DCS data → SIA events, ADM-CID data → Contact ID
 * events, NULL and replies → no events.
 */
import { parseCidData } from './contact-id/index.js';
import type { Dc09Message } from './dc09/types.js';
import type { DataDecodeResult, PanelEvent } from './events.js';
import { parseSiaData } from './sia/index.js';

export interface PayloadEvents {
  events: PanelEvent[];
  /** Why the data block did not decode (the frame is still ACKed, and kept as a dead letter); null when it did. */
  dataError: string | null;
}

const DECODERS: Readonly<Record<string, (data: string) => DataDecodeResult>> = {
  'SIA-DCS': parseSiaData,
  'ADM-CID': parseCidData,
};

export function decodePayload(message: Pick<Dc09Message, 'token' | 'data'>): PayloadEvents {
  const decoder = DECODERS[message.token];
  if (!decoder) return { events: [], dataError: null };
  const result = decoder(message.data);
  return result.ok ? { events: result.events, dataError: null } : { events: [], dataError: result.error };
}
