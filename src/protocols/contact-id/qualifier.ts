/**
 * Contact ID qualifier Q and how it turns a code's base category into the event's category
 * (docs/contact-id.md §2).
 */

import type { EventCategory } from '../events.js';
import type { CidCodeInfo } from './codes.js';

/** `1` new event / opening, `3` restore / closing, `6` previously reported, still present. */
export type CidQualifier = '1' | '3' | '6';

/** docs/contact-id.md §2 / docs/surgard.md §2: Sur-Gard receivers print Q as E (new), R (restore), P (previous). */
const QUALIFIER_BY_SYMBOL: Readonly<Record<string, CidQualifier>> = {
  '1': '1',
  '3': '3',
  '6': '6',
  E: '1',
  R: '3',
  P: '6',
};

/** Digit form of a qualifier given as `1`/`3`/`6` or Sur-Gard `E`/`R`/`P` (any case); null otherwise. */
export function normaliseQualifier(qualifier: string): CidQualifier | null {
  return QUALIFIER_BY_SYMBOL[qualifier.toUpperCase()] ?? null;
}

/**
 * docs/contact-id.md §2: what Q3 makes of each base category. Alarm, trouble and supervisory restore;
 * open/close codes (base `opening`) become `closing` = arm; bypass becomes unbypass.
 * Categories missing here (access, test, system, unknown) are not changed by Q3.
 */
const Q3_CATEGORY: Readonly<Partial<Record<CidCodeInfo['category'], EventCategory>>> = {
  alarm: 'alarm-restore',
  trouble: 'trouble-restore',
  supervisory: 'supervisory-restore',
  opening: 'closing',
  bypass: 'unbypass',
};

/**
 * The event category for a code with a qualifier. Q1 keeps the base category, Q3 applies
 * `Q3_CATEGORY`, Q6 is `status` for every code (docs/contact-id.md §2). A qualifier that is not 1/3/6 (E/R/P)
 * leaves the base category.
 */
export function cidCategory(qualifier: string, info: Pick<CidCodeInfo, 'category'>): EventCategory {
  const normalised = normaliseQualifier(qualifier);
  if (normalised === '6') return 'status';
  if (normalised === '3') return Q3_CATEGORY[info.category] ?? info.category;
  return info.category;
}
