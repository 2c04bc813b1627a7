/**
 * What one Galaxy block means to a receiver session (docs/sia-dcs.md §4): optional hello, `#` account, `N`/`O`
 * event blocks in the DC-03 grammar of docs/sia-dcs.md §1, optional `A` text, `0` end of data. Every good block is answered
 * with the ACK block (an event's only once it is durable, which the listener decides); a bad one with the reject
 * block, which makes the panel send it again.
 */
import { escapeFrame } from '../escape.js';
import type { DataDecodeResult, PanelEvent } from '../events.js';
import { parseSiaData } from '../sia/index.js';
import { GALAXY_ACK, GALAXY_FUNCTION, GALAXY_REJECT, parseGalaxyBlock } from './block.js';

export type GalaxyMessage =
  | { kind: 'bad-block'; code: 'header' | 'length' | 'parity'; error: string }
  | { kind: 'account'; account: string }
  /** `data` is the block as DC-03 text, function letter first (`Nti11:46/BA1011`); `decoded` its events. */
  | { kind: 'event'; data: string; decoded: DataDecodeResult }
  | { kind: 'text'; text: string }
  | { kind: 'end' }
  /** Any other function (wait, configuration, extended …): acknowledged, nothing to forward. */
  | { kind: 'other'; function: string; data: string };

type Reader = (fn: string, data: string) => GalaxyMessage;

const event: Reader = (fn, data) => ({ kind: 'event', data: `${fn}${data}`, decoded: parseSiaData(`${fn}${data}`) });

const READERS: Readonly<Record<string, Reader>> = {
  [GALAXY_FUNCTION.account]: (_fn, data) => ({ kind: 'account', account: data.trim() }),
  [GALAXY_FUNCTION.newEvent]: event,
  [GALAXY_FUNCTION.oldEvent]: event,
  [GALAXY_FUNCTION.text]: (_fn, data) => ({ kind: 'text', text: data }),
  [GALAXY_FUNCTION.endOfData]: () => ({ kind: 'end' }),
};

/** Reads one whole block (as the framer cuts it). Never throws. */
export function readGalaxyBlock(bytes: Uint8Array): GalaxyMessage {
  const parsed = parseGalaxyBlock(bytes);
  if (!parsed.ok) return { kind: 'bad-block', code: parsed.code, error: parsed.error };
  const { function: fn, data } = parsed.block;
  return READERS[fn]?.(fn, data) ?? { kind: 'other', function: fn, data };
}

/** The `decode --format galaxy` report of one block: what it means and the reply a receiver sends. */
export interface GalaxyCliReport {
  ok: boolean;
  format: 'galaxy';
  kind: GalaxyMessage['kind'];
  account: string | null;
  /** Event blocks: the DC-03 data, function letter first; text blocks: the text; null otherwise. */
  data: string | null;
  events: PanelEvent[];
  /** The block as given, escaped like DC-09 frames. */
  raw: string;
  reply: { kind: 'ACK' | 'NAK'; frame: string };
  dataError?: string;
  error?: { code: string; message: string };
}

/** Decodes one block for the command line: the ACK block for a good block, the reject block otherwise (docs/sia-dcs.md §4). */
export function decodeGalaxyForCli(bytes: Uint8Array): GalaxyCliReport {
  const message = readGalaxyBlock(bytes);
  const base = { format: 'galaxy' as const, kind: message.kind, account: null, data: null, events: [], raw: escapeFrame(bytes) };
  const ack = { kind: 'ACK' as const, frame: escapeFrame(GALAXY_ACK) };
  switch (message.kind) {
    case 'bad-block':
      return {
        ...base,
        ok: false,
        reply: { kind: 'NAK', frame: escapeFrame(GALAXY_REJECT) },
        error: { code: message.code, message: message.error },
      };
    case 'account':
      return { ...base, ok: true, account: message.account, reply: ack };
    case 'event':
      return message.decoded.ok
        ? { ...base, ok: true, data: message.data, events: message.decoded.events, reply: ack }
        : { ...base, ok: true, data: message.data, reply: ack, dataError: message.decoded.error };
    case 'text':
      return { ...base, ok: true, data: message.text, reply: ack };
    case 'end':
      return { ...base, ok: true, reply: ack };
    case 'other':
      return { ...base, ok: true, data: message.data, reply: ack };
  }
}
