/** Extended-data blocks `[X…]` (docs/dc09.md §9): names of the known identifiers, unknown ones kept raw. */
import { parseTimestamp } from './timestamp.js';
import type { XData } from './types.js';

export const XDATA_NAMES: Readonly<Record<string, string>> = {
  X: 'longitude',
  Y: 'latitude',
  Z: 'altitude',
  H: 'time of occurrence',
  V: 'verification',
  M: 'MAC address',
  P: 'program',
  I: 'alarm text',
  L: 'location',
  R: 'room',
  S: 'site name',
  O: 'building name',
  A: 'authentication hash',
  C: 'supervision category',
  J: 'network path',
  N: 'network address',
  T: 'alarm trigger',
  K: 'encryption key',
};

export interface DescribedXData extends XData {
  /** Name of a known identifier, null for unknown ones (kept raw). */
  name: string | null;
}

export function describeXData(block: XData): DescribedXData {
  return { id: block.id, value: block.value, name: XDATA_NAMES[block.id] ?? null };
}

/**
 * The `H` block's time of occurrence, assumed in the message-timestamp format (docs/dc09.md §9, docs/dc09.md §20 item 9); accepted with
 * or without the leading `_`. Null when absent or malformed.
 */
export function occurrenceTime(xdata: readonly XData[]): Date | null {
  const block = xdata.find((x) => x.id === 'H');
  if (!block) return null;
  const text = block.value.startsWith('_') ? block.value : `_${block.value}`;
  return parseTimestamp(text);
}
