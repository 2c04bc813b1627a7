/**
 * Builds the protocol-neutral `CidEvent` from decoded Contact ID fields.
 */

import type { CidEvent } from '../events.js';
import { lookupCidCode } from './codes.js';
import { cidCategory, type CidQualifier } from './qualifier.js';

export interface CidEventFields {
  qualifier: CidQualifier;
  /** EEE as sent. */
  code: string;
  /** GG as sent. */
  group: string;
  /** CCC as sent. */
  zone: string;
}

/** Looks the code up (docs/contact-id.md §3) and applies the qualifier (docs/contact-id.md §2). */
export function toCidEvent({ qualifier, code, group, zone }: CidEventFields): CidEvent {
  const info = lookupCidCode(code);
  return {
    protocol: 'cid',
    qualifier,
    code,
    group,
    zone,
    addressKind: info.address,
    category: cidCategory(qualifier, info),
    description: info.description,
    known: info.known,
  };
}
