/**
 * Prometheus metrics (prom-client), one registry per bridge instance so tests can run several side by side.
 * Names follow Prometheus conventions: `alarm_bridge_` prefix, `_total` counters, base units (seconds, bytes).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LabelCells } from './label-cells.js';

export class BridgeMetrics {
  readonly registry = new Registry();
  readonly frames = new Counter({
    name: 'alarm_bridge_frames_total',
    help: 'Frames received, by transport, token and result',
    labelNames: ['transport', 'token', 'result'] as const,
    registers: [this.registry],
    collect: (): void => this.frameCounts?.flush(),
  });
  readonly replies = new Counter({
    name: 'alarm_bridge_replies_total',
    help: 'Replies sent to panels, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: (): void => this.replyCounts?.flush(),
  });
  readonly rejections = new Counter({
    name: 'alarm_bridge_rejections_total',
    help: 'Frames or bytes rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly proxyHeaderRejected = new Counter({
    name: 'alarm_bridge_proxy_header_rejected_total',
    help: 'Connections to a proxyProtocol listener closed for lack of a valid PROXY protocol header, by listener and reason',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'alarm_bridge_events_total',
    help: 'Panel events, by outcome of mapping (forwarded, ignored, unknown-code, unmapped-account, unmapped-camera, duplicate, undecodable-data)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
    collect: (): void => this.eventCounts?.flush(),
  });
  readonly cidChecksumMismatches = new Counter({
    name: 'alarm_bridge_cid_checksum_mismatches_total',
    help: 'Contact ID events whose DC-05 check digit was wrong (decoded and forwarded all the same), by source protocol',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'alarm_bridge_ack_latency_seconds',
    help: 'Time from a complete frame to its reply being written',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly openConnections = new Gauge({
    name: 'alarm_bridge_open_connections',
    help: 'Open TCP connections from panels',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });
  readonly junkBytes = new Counter({
    name: 'alarm_bridge_junk_bytes_total',
    help: 'Bytes dropped because they were not part of a frame',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'alarm_bridge_deliveries_total',
    help: 'Delivery attempts to the sink, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
    collect: (): void => this.deliveryCounts?.flush(),
  });
  readonly apiLatency = new Histogram({
    name: 'alarm_bridge_api_latency_seconds',
    help: 'Partner Event API request latency',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly tokenRefreshes = new Counter({
    name: 'alarm_bridge_token_refreshes_total',
    help: 'Access-token requests, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly outboxDepth = new Gauge({
    name: 'alarm_bridge_outbox_depth',
    help: 'Events accepted but not yet delivered',
    registers: [this.registry],
  });
  readonly outboxBytes = new Gauge({ name: 'alarm_bridge_outbox_bytes', help: 'Bytes of journal on disk', registers: [this.registry] });
  readonly outboxOldestAge = new Gauge({
    name: 'alarm_bridge_outbox_oldest_age_seconds',
    help: 'Age of the oldest undelivered event',
    registers: [this.registry],
  });
  readonly outboxLostEvents = new Gauge({
    name: 'alarm_bridge_outbox_lost_events',
    help: 'Events lost in damaged journal bytes found at start (copied to quarantine/)',
    registers: [this.registry],
  });
  readonly outboxDamagedBytes = new Gauge({
    name: 'alarm_bridge_outbox_damaged_bytes',
    help: 'Damaged journal bytes skipped at start (copied to quarantine/)',
    registers: [this.registry],
  });
  readonly outboxDuplicateEvents = new Gauge({
    name: 'alarm_bridge_outbox_duplicate_events',
    help: 'Journal event records skipped at start because an earlier record had the same sequence number',
    registers: [this.registry],
  });
  readonly outboxUnreadableEvents = new Gauge({
    name: 'alarm_bridge_outbox_unreadable_events',
    help: 'Pending events whose journal record could not be read back for delivery (moved to the dead letters)',
    registers: [this.registry],
  });
  readonly outboxSync = new Histogram({
    name: 'alarm_bridge_outbox_sync_seconds',
    help: "Outbox: one journal batch's write + fdatasync, during which the receiving thread waits",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly supervisedAccounts = new Gauge({
    name: 'alarm_bridge_supervised_accounts',
    help: 'Accounts under supervision',
    registers: [this.registry],
  });
  readonly accountsInFailure = new Gauge({
    name: 'alarm_bridge_accounts_in_failure',
    help: 'Supervised accounts currently in communication failure',
    registers: [this.registry],
  });
  readonly supervisionEvents = new Counter({
    name: 'alarm_bridge_supervision_events_total',
    help: 'Synthetic supervision events (fail = communication failure, restore), by whether the durable log took them',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly clusterPublish = new Histogram({
    name: 'alarm_bridge_cluster_publish_seconds',
    help: "Cluster mode: time from publishing a frame's events to JetStream acknowledging every one of them",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly clusterPending = new Gauge({
    name: 'alarm_bridge_cluster_pending',
    help: 'Cluster mode: events in the events stream not yet finally delivered, discarded or dead-lettered',
    registers: [this.registry],
  });
  readonly clusterRole = new Gauge({
    name: 'alarm_bridge_cluster_role',
    help: "Cluster mode: 1 for this instance's role (delivering or standby), 0 for the other",
    labelNames: ['role'] as const,
    registers: [this.registry],
  });
  readonly clusterLeaseChanges = new Counter({
    name: 'alarm_bridge_cluster_lease_changes_total',
    help: "Cluster mode: changes of this instance's role (the delivery lease taken or lost)",
    registers: [this.registry],
  });
  readonly clusterConnected = new Gauge({
    name: 'alarm_bridge_cluster_connected',
    help: 'Cluster mode: 1 while connected to a NATS server, else 0',
    registers: [this.registry],
  });
  // The per-frame path's counts (label-cells.ts), added to the counters above whenever those are read.
  readonly frameCounts: LabelCells<'transport' | 'token' | 'result'> = new LabelCells(this.frames, ['transport', 'token', 'result']);
  readonly replyCounts: LabelCells<'kind'> = new LabelCells(this.replies, ['kind']);
  readonly eventCounts: LabelCells<'outcome'> = new LabelCells(this.events, ['outcome']);
  readonly deliveryCounts: LabelCells<'outcome'> = new LabelCells(this.deliveries, ['outcome']);
}
