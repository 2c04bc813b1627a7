/**
 * The Partner Event API request body (docs/partner-event-api.md §2) and the sink contract
 * every delivery target implements (file, partner-api, outbox-wrapped).
 */

export type PartnerEventType = 'alarm' | 'trouble' | 'arming';
export type PartnerEventStatus = 'active' | 'inactive';

export interface PartnerEvent {
  version: '1.0';
  location_id: string;
  /** Omitted for arming events. */
  recorder_id?: string;
  camera_id: string;
  event_id: string;
  event_type: PartnerEventType;
  event_status: PartnerEventStatus;
  /** ISO 8601 UTC. */
  event_time: string;
  /** ISO 8601 UTC, set at each delivery attempt. */
  sent_at: string;
  should_signal_to_monitoring_center: boolean;
  upload_snapshot_count: number;
  upload_short_mp4: boolean;
  upload_event_mp4: boolean;
  payload: Record<string, unknown>;
}

/** Where media for an event can be fetched from (camera snapshot URL or a panel-sent `V` xdata URL). */
export interface MediaSource {
  snapshotUrl?: string;
  username?: string;
  password?: string;
}

/** One event ready for delivery: the body plus what delivery needs that is not part of the body. */
export interface OutgoingEvent {
  body: PartnerEvent;
  /** Delivery order is kept per account. */
  account: string;
  media?: MediaSource;
  /**
   * The body as JSON text, when the outbox already serialised it for its journal record (the same fields as `body`,
   * `sent_at` as stored): a sink replaces `sent_at` in it rather than serialising the body again (src/sink/body-json.ts).
   */
  bodyJson?: string;
}

export type DeliveryOutcome =
  | { kind: 'accepted'; responseId?: string }
  | { kind: 'discarded'; reason: string | null }
  | { kind: 'retry'; afterMs?: number; reason: string }
  | { kind: 'permanent'; status?: number; reason: string; response?: unknown };

export interface Sink {
  readonly name: string;
  deliver(event: OutgoingEvent): Promise<DeliveryOutcome>;
  /** Flush buffered output and release resources. */
  close(): Promise<void>;
}
