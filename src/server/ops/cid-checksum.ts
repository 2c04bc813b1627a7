/**
 * Contact ID events whose DC-05 check digit was wrong (docs/contact-id.md §1): panels that send a wrong digit still
 * mean the event, so it is forwarded — and counted and logged so an installer can see the panel's quirk.
 */
import type { PanelEvent } from '../../protocols/events.js';
import type { BridgeMetrics } from './metrics.js';
import type { RateLimitedWarn } from './rate-limited-log.js';

export function noteChecksumMismatches(
  events: readonly PanelEvent[],
  protocol: 'dc09' | 'lupusec-cid',
  metrics: BridgeMetrics,
  warn: RateLimitedWarn,
  fields: Record<string, unknown>,
): void {
  for (const event of events) {
    if (event.protocol !== 'cid' || event.checksumOk !== false) continue;
    metrics.cidChecksumMismatches.inc({ protocol });
    warn.warn(
      'cid-checksum',
      { ...fields, code: `${event.qualifier}${event.code}` },
      'Contact ID check digit does not follow DC-05: event decoded and forwarded',
    );
  }
}
