/**
 * What one Galaxy block means to a receiver session (docs/sia-dcs.md §4): optional hello, `#` account, `N`/`O`
 * event blocks in the DC-03 grammar of docs/sia-dcs.md §1, optional `A` text, `0` end of data. Every good block is answered
 * with the ACK block (an event's only once it is durable, which the listener decides); a bad one with the reject
 * block, which makes the panel send it again.
 */
import type { DataDecodeResult } from '../events.js';
import { parseSiaData } from '../sia/index.js';
import { GALAXY_FUNCTION, parseGalaxyBlock } from './block.js';

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
