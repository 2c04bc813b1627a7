/** What the mapper does not forward, and why: the pipeline hands it to the durable log, which keeps it as a dead letter. */
import type { PartnerEvent } from '../sink/types.js';
import type { SourceFrame } from './frame.js';

export type NotForwardedReason = 'ignored' | 'unknown-code' | 'unmapped-account' | 'unmapped-camera';

/**
 * An event that is not forwarded: the mapper's verdict (issue #3: unmapped accounts and cameras, ignored and unknown
 * codes) or a data block that did not decode. The log keeps it as a dead letter where it can.
 */
export interface NotForwarded {
  eventId: string;
  account: string;
  reason: NotForwardedReason | 'undecodable-data';
  message?: string;
  /** The configuration key that would make it deliverable. */
  configKey?: string;
  /** What would have been posted, as far as it could be built. */
  partial?: Partial<PartnerEvent>;
  /** The frame it came in and its index there: enough to map it again once the config is fixed. */
  source?: SourceFrame;
  index?: number;
  receivedAt?: Date;
}
