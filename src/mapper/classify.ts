/**
 * Built-in classification: event category → Partner Event API type and status, or why it is not forwarded.
 * A data table (issue #3, "Built-in classification"); code-level overrides come from `mapping.codes`.
 */
import type { EventCategory, PanelEvent } from '../protocols/events.js';
import type { CodeOverride, MappingConfig } from '../config/types.js';
import type { PartnerEventStatus } from '../sink/types.js';

export type Classification =
  | { forward: true; type: string; status: PartnerEventStatus; signal?: boolean; source: 'built-in' | string }
  | { forward: false; reason: 'ignored' | 'unknown-code'; source: 'built-in' | string };

type Row = { type: string; status: PartnerEventStatus } | 'ignored' | 'unknown-code';

/** The default table, by category. Arming: closing = armed = active, opening = disarmed = inactive. */
export const CATEGORY_TABLE: Readonly<Record<EventCategory, Row>> = {
  alarm: { type: 'alarm', status: 'active' },
  'alarm-restore': { type: 'alarm', status: 'inactive' },
  trouble: { type: 'trouble', status: 'active' },
  'trouble-restore': { type: 'trouble', status: 'inactive' },
  supervisory: { type: 'trouble', status: 'active' },
  'supervisory-restore': { type: 'trouble', status: 'inactive' },
  closing: { type: 'arming', status: 'active' },
  opening: { type: 'arming', status: 'inactive' },
  test: 'ignored',
  system: 'ignored',
  access: 'ignored',
  bypass: 'ignored',
  unbypass: 'ignored',
  cancel: 'ignored',
  status: 'ignored',
  unknown: 'unknown-code',
};

/** Categories whose events end a condition: an override without `status` takes `inactive` for them. */
const ENDING_CATEGORIES: ReadonlySet<EventCategory> = new Set([
  'alarm-restore',
  'trouble-restore',
  'supervisory-restore',
  'opening',
  'unbypass',
]);

/**
 * Override keys, most specific first (grammar in docs/mapping.md, "Mapping overrides"):
 * `sia:<CODE>` for SIA; `cid:<Q>:<EEE>` then `cid:<EEE>` for Contact ID.
 */
export function overrideKeys(event: PanelEvent): string[] {
  if (event.protocol === 'sia') return [`sia:${event.code.toUpperCase()}`];
  const code = event.code.toUpperCase();
  return [`cid:${event.qualifier}:${code}`, `cid:${code}`];
}

/** Restores, openings and unbypasses end a condition; so does any Contact ID qualifier 3, known code or not (docs/contact-id.md §2). */
function endsCondition(event: PanelEvent): boolean {
  return ENDING_CATEGORIES.has(event.category) || (event.protocol === 'cid' && event.qualifier === '3');
}

function fromOverride(event: PanelEvent, override: CodeOverride, key: string): Classification {
  if (override === 'ignore') return { forward: false, reason: 'ignored', source: key };
  const status = override.status ?? (endsCondition(event) ? 'inactive' : 'active');
  return { forward: true, type: override.type, status, ...(override.signal !== undefined ? { signal: override.signal } : {}), source: key };
}

export function classify(event: PanelEvent, mapping: Pick<MappingConfig, 'codes' | 'forwardUnknown'>): Classification {
  for (const key of overrideKeys(event)) {
    const override = mapping.codes[key];
    if (override !== undefined) return fromOverride(event, override, key);
  }
  const row = CATEGORY_TABLE[event.category];
  if (row === 'unknown-code') {
    return mapping.forwardUnknown
      ? { forward: true, type: 'trouble', status: endsCondition(event) ? 'inactive' : 'active', source: 'mapping.forwardUnknown' }
      : { forward: false, reason: 'unknown-code', source: 'built-in' };
  }
  if (row === 'ignored') return { forward: false, reason: 'ignored', source: 'built-in' };
  return { forward: true, type: row.type, status: row.status, source: 'built-in' };
}
