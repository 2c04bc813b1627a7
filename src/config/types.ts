/**
 * The configuration file's shape after validation and defaulting (every key named by issues #3–#8).
 * `src/config/load.ts` turns a JSON file into this, with errors naming file, JSON path, found and expected.
 */

import type { ASSERTION_ALGORITHMS, KEY_ENCODINGS, LISTENER_PROTOCOLS, LOG_LEVELS, TRANSPORTS } from './keys.js';

export type KeyEncoding = (typeof KEY_ENCODINGS)[number];

export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

export interface ListenerConfig {
  /** Every protocol but `dc09` runs over TCP only. */
  protocol: (typeof LISTENER_PROTOCOLS)[number];
  transport: (typeof TRANSPORTS)[number];
  host: string;
  port: number;
  /** TCP only: close the socket this long after a reply (Ajax needs a delay, docs/dc09.md §1); null = keep open. */
  closeAfterReplyMs: number | null;
  /** TCP only: connections start with a PROXY protocol header naming the panel's address (docs/proxy-protocol.md §5). */
  proxyProtocol: boolean;
  /**
   * Sur-Gard only: the (pseudo-)account the receiver's heartbeats report for. Configure that account with
   * `supervision` (and ids) and a silent receiver raises a trouble event, its return a restore (issue #8).
   */
  heartbeatAccount?: string;
}

export interface TimestampWindow {
  pastSeconds: number;
  futureSeconds: number;
}

export interface SupervisionConfig {
  intervalSeconds: number;
  graceSeconds: number;
}

export interface ReceiverConfig {
  /** `reject` → NAK, `accept` → processed with defaults. */
  unknownAccounts: 'reject' | 'accept';
  /** `nak` answers a bad CRC with NAK, `silent` sends nothing. */
  badCrc: 'nak' | 'silent';
  timestampWindow: TimestampWindow;
  /** Clear-text frames: `flag` accepts and flags a skewed timestamp, `enforce` NAKs it. */
  clearTimestamps: 'flag' | 'enforce';
  /** Open TCP connections at most, all TCP listeners together; shared fairly between source addresses. */
  maxConnections: number;
  /** Open TCP connections of one source address at most; null: no per-address cap (carrier NAT). */
  maxConnectionsPerSource: number | null;
  idleTimeoutSeconds: number;
  /** UDP datagrams handled per second from one source address (token bucket); null: no limit. */
  udpDatagramsPerSecondPerSource: number | null;
  /** Datagrams one source address may send at once before its rate applies. */
  udpBurstPerSource: number;
  maxFrameBytes: number;
  duplicateWindowSeconds: number;
  supervision: SupervisionConfig | null;
}

export interface ZoneConfig {
  cameraId?: string;
  recorderId?: string;
  name?: string;
  uploads?: UploadsConfig;
  snapshotUrl?: string;
  snapshotUsername?: string;
  snapshotPassword?: string;
}

export interface UploadsConfig {
  snapshots: number;
  shortMp4: boolean;
  eventMp4: boolean;
}

export interface SignalConfig {
  alarm: boolean;
  trouble: boolean;
  arming: boolean;
}

export interface AccountConfig {
  key?: string;
  keyEncoding: KeyEncoding;
  /**
   * True when the file did not say `keyEncoding`: a 32-hex-digit key is then also tried as 32 ASCII characters
   * (AES-256), the way pysiaalarm / Home Assistant users enter it (docs/dc09.md §12 "Bridge recommendation").
   */
  keyEncodingDefaulted?: boolean;
  locationId?: string;
  recorderId?: string;
  cameraId?: string;
  /** Keyed by the zone number as written in the file; matched numerically. */
  zones: Record<string, ZoneConfig>;
  users: Record<string, string>;
  signalToMonitoringCenter: SignalConfig;
  uploads: UploadsConfig;
  timestampWindow?: TimestampWindow;
  supervision?: SupervisionConfig;
  snapshotUrl?: string;
  snapshotUsername?: string;
  snapshotPassword?: string;
}

/** A code override: `"ignore"`, or a type with optional status and signal flag. */
export type CodeOverride = 'ignore' | { type: string; status?: 'active' | 'inactive'; signal?: boolean };

export interface MappingConfig {
  /** Keys: `sia:CODE`, `cid:EEE` or `cid:Q:EEE` (see docs/mapping.md, "Mapping overrides"). */
  codes: Record<string, CodeOverride>;
  /** Forward codes missing from the built-in tables as `trouble` events. */
  forwardUnknown: boolean;
  /**
   * Fill missing location/camera ids with visible placeholders (`account-<acct>`, `account-<acct>-zone-<zone>`).
   * Only the embedded default sets it, and only with the file sink: the Partner API never gets made-up ids.
   */
  placeholderIds?: boolean;
}

export type SinkConfig =
  | { type: 'file'; path: string }
  | {
      type: 'partner-api';
      baseUrl: string;
      auth:
        | {
            tokenUrl: string;
            audience: string;
            assertionAudience: string;
            clientId: string;
            keyId?: string;
            privateKeyFile: string;
            algorithm: AssertionAlgorithm;
          }
        | { apiKey: string };
      timeoutSeconds: number;
      connections: number;
      /** Give up retrying after this long (the outbox's dead letters take it). */
      maxRetryAgeSeconds: number;
      /** Without an outbox: events waiting in memory at most; past it frames are NAKed. */
      maxQueuedEvents: number;
    };

export interface OutboxConfig {
  dir: string;
  /** Key that encrypts camera credentials at rest (default `<dir>/media.key`, created on first use). */
  keyFile?: string;
  ackAfter: 'persisted' | 'delivered';
  maxBytes: number;
  deliveredTimeoutSeconds: number;
  maxAgeHours: number;
}

/** Cluster mode (docs/cluster.md): the durable log is a replicated NATS JetStream stream. */
export interface ClusterConfig {
  nats: {
    servers: string[];
    user?: string;
    password?: string;
    token?: string;
    credsFile?: string;
    tls?: { caFile?: string; certFile?: string; keyFile?: string };
  };
  stream: string;
  replicas: number;
  instance: string;
  publishTimeoutSeconds: number;
  maxAgeHours: number;
}

/** Who may use the operator console: a bearer token, or a user and password; each secret read from its file at start. */
export type HttpAuthConfig = { tokenFile: string } | { user: string; passwordFile: string };

export interface HttpConfig {
  host: string;
  port: number;
  /** Required when `host` is not a loopback address (the console shows accounts and acts on dead letters). */
  auth?: HttpAuthConfig;
}

export interface LogConfig {
  level: (typeof LOG_LEVELS)[number];
}

export interface BridgeConfig {
  /** The file this came from (null for the embedded default). */
  source: string | null;
  listeners: ListenerConfig[];
  receiver: ReceiverConfig;
  /** Account numbers upper-cased (they match case-insensitively). */
  accounts: Record<string, AccountConfig>;
  mapping: MappingConfig;
  sink: SinkConfig;
  outbox: OutboxConfig | null;
  cluster: ClusterConfig | null;
  http: HttpConfig | null;
  log: LogConfig;
}
