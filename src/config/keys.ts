/**
 * Every configuration key, defined once: its rule, its default and its documentation. The loader checks values
 * with these rules, takes omitted values from these defaults and the allowed keys of each object from this table;
 * the configuration reference (docs/configuration.md) is generated from it, so neither can drift from the other.
 *
 * A default is written the way it would stand in the file and is read through the same rules when the key is left
 * out (so `receiver: {}` means every receiver key at its default). REQUIRED, UNSET and `inherited(...)` mark keys
 * without a default of their own.
 *
 * `key` is a JSON path pattern: `listeners[]` is any listener, `<account>`, `<zone>`, `<user>` and `<code>` stand
 * for the keys of a map. `when` restricts a key to one variant of its object (the sink's `type`, the auth mode).
 */

import { boolean, host, httpUrl, integer, nullable, number, oneOf, port, rule, secret, text, type Rule } from './check.js';

export type Variant = 'file sink' | 'partner-api sink' | 'JWT auth' | 'API key auth';

/** Left out, the loader reports the key as missing. */
export const REQUIRED: unique symbol = Symbol('required');
/** Left out, the key stays unset. */
export const UNSET: unique symbol = Symbol('none');

/** Left out, the key follows a wider setting (`doc` says which, e.g. "the account's"). */
export class Inherited {
  constructor(readonly doc: string) {}
}

type Marker = typeof REQUIRED | typeof UNSET | Inherited;

export interface ConfigKey<T = unknown, D = unknown> {
  /** JSON path pattern, filled in from the position in the table. */
  key: string;
  /** The last segment of `key`: the property name in its object. */
  name: string;
  type: string;
  /** The check of a single value; objects and maps are read by the loader's function for them. */
  rule?: Rule<T>;
  default: D;
  description: string;
  when?: Variant;
  /** The keys inside the value: `at` is appended to `key` to name their object (`[]`, `.<account>` or nothing). */
  inner?: { at: string; keys: KeyTable };
}

type KeyTable = Record<string, ConfigKey<any, any>>;

/** A key holding a single value checked by `rule`. */
export type Setting<T, D = T | Marker> = ConfigKey<T, D> & { rule: Rule<T> };

interface Spec<D> {
  type: string;
  default: D;
  description: string;
  when?: Variant;
}

type RuleSpec<T> = Omit<Spec<unknown>, 'default'> & { rule: Rule<T> };

/** `key` and `name` are filled in by `place` below. */
const UNPLACED = { key: '', name: '' };

/** A key with a default value of its own. */
function setting<T>(spec: RuleSpec<T> & { default: NoInfer<T> }): Setting<T, T> {
  return { ...UNPLACED, ...spec };
}

/** A key with a default of its own in one place, following a wider setting in another (window, uploads). */
function settingOr<T>(spec: RuleSpec<T> & { default: NoInfer<T> | Inherited }): Setting<T, T | Inherited> {
  return { ...UNPLACED, ...spec };
}

function required<T>(spec: RuleSpec<T>): Setting<T, typeof REQUIRED> {
  return { ...UNPLACED, ...spec, default: REQUIRED };
}

function unset<T>(spec: RuleSpec<T>): Setting<T, typeof UNSET> {
  return { ...UNPLACED, ...spec, default: UNSET };
}

function inherited<T>(doc: string, spec: RuleSpec<T>): Setting<T, Inherited> {
  return { ...UNPLACED, ...spec, default: new Inherited(doc) };
}

/** A key whose value the loader reads with its own function (a map of names). */
function plain(spec: Spec<unknown>): ConfigKey {
  return { ...UNPLACED, ...spec };
}

/** An array or a map key whose items are objects with `keys`; `at` is `[]` or `.<placeholder>`. */
function items<K extends KeyTable>(spec: Spec<unknown>, at: string, keys: K): ConfigKey & { inner: { at: string; keys: K } } {
  return { ...UNPLACED, ...spec, inner: { at, keys } };
}

/** An object key; `keys` are its keys. */
function object<K extends KeyTable>(spec: Spec<unknown>, keys: K): ConfigKey & { inner: { at: string; keys: K } } {
  return items(spec, '', keys);
}

const ACCOUNTS = "the account's";
const RECEIVERS = "the receiver's";

// listeners ------------------------------------------------------------------------------------------------------

export const LISTENER_PROTOCOLS = ['dc09', 'surgard', 'galaxy', 'lupusec-cid'] as const;
export const TRANSPORTS = ['tcp', 'udp'] as const;
export const ACCOUNT_TEXT = 'an account of 1-16 characters [0-9A-Za-z]';

export const LISTENER_KEYS = {
  protocol: required({
    type: '"dc09" | "surgard" | "galaxy" | "lupusec-cid"',
    rule: oneOf(LISTENER_PROTOCOLS),
    description:
      'SIA DC-09 frames; or, TCP only: Sur-Gard/MLR2 automation output, Honeywell Galaxy native SIA blocks (E080/A083 module set to SIA), Lupusec XT Contact ID (`ip://…/CID`).',
  }),
  transport: required({ type: '"tcp" | "udp"', rule: oneOf(TRANSPORTS), description: 'Socket type.' }),
  host: setting({ type: 'string', rule: host, default: '0.0.0.0', description: 'Address to bind.' }),
  port: required({ type: 'integer 0-65535', rule: port, description: 'Port to bind (0 picks a free port, for tests).' }),
  closeAfterReplyMs: setting({
    type: 'integer >= 0 or null',
    rule: nullable(integer(0, 600_000)),
    default: null,
    description: 'TCP only: close the connection this long after each reply (some Ajax hubs need it); null keeps it open.',
  }),
  proxyProtocol: setting({
    type: 'boolean',
    rule: boolean,
    default: false,
    description:
      "TCP only: every connection starts with a PROXY protocol v1/v2 header (HAProxy `send-proxy-v2`) naming the panel's address, used for logs, supervision and per-source limits; a connection without a valid one is closed (docs/proxy-protocol.md). Only for a port the load balancer alone can reach.",
  }),
  heartbeatAccount: unset({
    type: 'account string',
    rule: text(ACCOUNT_TEXT),
    description:
      'Sur-Gard only: account the receiver heartbeats count as activity for; give that account `supervision` (and ids) to get a trouble event when the receiver goes silent.',
  }),
};

// receiver -------------------------------------------------------------------------------------------------------

const positiveSeconds = number(0, true);
const nonNegativeSeconds = number(0);

function windowKeys(past: number | Inherited, future: number | Inherited) {
  return {
    pastSeconds: settingOr({
      type: 'number >= 0',
      rule: nonNegativeSeconds,
      default: past,
      description: 'How far a frame timestamp may lie in the past.',
    }),
    futureSeconds: settingOr({
      type: 'number >= 0',
      rule: nonNegativeSeconds,
      default: future,
      description: 'How far a frame timestamp may lie in the future.',
    }),
  };
}

export const SUPERVISION_KEYS = {
  intervalSeconds: required({ type: 'number > 0', rule: positiveSeconds, description: 'Expected reporting interval of the panel.' }),
  graceSeconds: required({
    type: 'number >= 0',
    rule: nonNegativeSeconds,
    description: 'Extra time allowed after the interval before the failure event.',
  }),
};

export const WINDOW_KEYS = windowKeys(40, 20);

const WINDOW_DOC = "Accepted skew of encrypted frames' timestamps against the receiver clock";
const SUPERVISION_DOC = 'a silent account raises one trouble event.';

export const RECEIVER_KEYS = {
  unknownAccounts: setting({
    type: '"reject" | "accept"',
    rule: oneOf(['reject', 'accept'] as const),
    default: 'reject',
    description: 'Frames from accounts not in `accounts`: NAK them, or process them with default settings.',
  }),
  badCrc: setting({
    type: '"nak" | "silent"',
    rule: oneOf(['nak', 'silent'] as const),
    default: 'nak',
    description: 'Answer a frame with a bad CRC with NAK, or not at all.',
  }),
  timestampWindow: object({ type: 'object', default: {}, description: `${WINDOW_DOC}.` }, WINDOW_KEYS),
  clearTimestamps: setting({
    type: '"flag" | "enforce"',
    rule: oneOf(['flag', 'enforce'] as const),
    default: 'flag',
    description:
      'Clear-text frames with a skewed timestamp: accept and flag them, or NAK them ("enforce" is recommended for clear-text panels with a good clock; docs/security.md).',
  }),
  maxConnections: setting({
    type: 'integer >= 1',
    rule: integer(1),
    default: 10000,
    description:
      'Open TCP connections at most, all TCP listeners together. When reached, a connection from an address holding less than its fair share replaces the longest-idle connection of the address holding the most; others are refused and logged.',
  }),
  maxConnectionsPerSource: setting({
    type: 'integer >= 1 or null',
    rule: nullable(integer(1)),
    default: null,
    description:
      'Open TCP connections from one source address at most; null: no such cap (panels on mobile networks often share a few carrier addresses).',
  }),
  idleTimeoutSeconds: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 120,
    description: 'Close a TCP connection that sent no complete frame (and got no reply) this long; junk and NULs do not count.',
  }),
  udpDatagramsPerSecondPerSource: setting({
    type: 'number > 0 or null',
    rule: nullable(number(0, true)),
    default: 100,
    description:
      'UDP datagrams handled per second from one source address (token bucket); past it they are dropped unread and counted. null: no limit.',
  }),
  udpBurstPerSource: setting({
    type: 'integer >= 1',
    rule: integer(1),
    default: 200,
    description: 'UDP datagrams one source address may send at once before `udpDatagramsPerSecondPerSource` applies.',
  }),
  maxFrameBytes: setting({
    type: 'integer 64-1048576',
    rule: integer(64, 1_048_576),
    default: 4096,
    description: 'Largest frame accepted; the per-connection buffer is capped at this.',
  }),
  duplicateWindowSeconds: setting({
    type: 'number >= 0',
    rule: nonNegativeSeconds,
    default: 120,
    description: 'A repeated frame within this time is answered again but not forwarded twice (0 disables).',
  }),
  supervision: object(
    {
      type: 'object or null',
      default: null,
      description: `Panel supervision default for every configured account (null: none): ${SUPERVISION_DOC}`,
    },
    SUPERVISION_KEYS,
  ),
};

// accounts -------------------------------------------------------------------------------------------------------

function uploadsKeys(snapshots: number | Inherited, shortMp4: boolean | Inherited, eventMp4: boolean | Inherited) {
  return {
    snapshots: settingOr({
      type: 'integer 0-10',
      rule: integer(0, 10),
      default: snapshots,
      description: 'Snapshots uploaded per event (`upload_snapshot_count`).',
    }),
    shortMp4: settingOr({ type: 'boolean', rule: boolean, default: shortMp4, description: 'Upload a short MP4 (`upload_short_mp4`).' }),
    eventMp4: settingOr({ type: 'boolean', rule: boolean, default: eventMp4, description: 'Upload the event MP4 (`upload_event_mp4`).' }),
  };
}

const UPLOADS_DOC = 'Media the bridge uploads with each event (omitted keys keep the default).';

function snapshotKeys(scope: string) {
  return {
    snapshotUrl: unset({
      type: 'http(s) URL',
      rule: httpUrl('http://192.168.1.20/ISAPI/Streaming/channels/101/picture'),
      description: `HTTP(S) URL returning a JPEG snapshot for ${scope}.`,
    }),
    snapshotUsername: unset({ type: 'string', rule: text(), description: 'Basic-auth user name for `snapshotUrl`.' }),
    snapshotPassword: unset({ type: 'string', rule: secret(), description: 'Basic-auth password for `snapshotUrl` (never logged).' }),
  };
}

export const ACCOUNT_UPLOADS_KEYS = uploadsKeys(0, false, false);

export const ZONE_KEYS = {
  cameraId: inherited(ACCOUNTS, { type: 'string', rule: text(), description: 'Camera for events of this zone.' }),
  recorderId: inherited(ACCOUNTS, { type: 'string', rule: text(), description: 'Recorder for events of this zone.' }),
  name: unset({ type: 'string', rule: text(), description: 'Zone name, put into the event payload.' }),
  uploads: object(
    { type: 'object', default: new Inherited(ACCOUNTS), description: UPLOADS_DOC },
    uploadsKeys(new Inherited(ACCOUNTS), new Inherited(ACCOUNTS), new Inherited(ACCOUNTS)),
  ),
  ...snapshotKeys('events of this zone'),
};

export const SIGNAL_KEYS = {
  alarm: setting({ type: 'boolean', rule: boolean, default: true, description: 'For alarm events.' }),
  trouble: setting({ type: 'boolean', rule: boolean, default: false, description: 'For trouble events.' }),
  arming: setting({ type: 'boolean', rule: boolean, default: false, description: 'For arming events.' }),
};

export const KEY_ENCODINGS = ['hex', 'ascii'] as const;

export const ACCOUNT_KEYS = {
  // The key's check depends on keyEncoding: the loader picks it (and never shows the key in a message).
  key: unset({
    type: 'string',
    rule: secret('a string (the AES key)'),
    description: 'AES key; when set, the account must send encrypted frames.',
  }),
  keyEncoding: setting({
    type: '"hex" | "ascii"',
    rule: oneOf(KEY_ENCODINGS),
    default: 'hex',
    description:
      '`hex`: 32, 48 or 64 hex digits; `ascii`: 16, 24 or 32 characters used as they are. Left out, a 32-hex-digit key is tried as hex first, then as 32 ASCII characters (AES-256, as Home Assistant users enter it).',
  }),
  locationId: unset({
    type: 'string',
    rule: text(),
    description: 'CHeKT location (`location_id`); events of an account without it are kept as unmapped.',
  }),
  recorderId: unset({ type: 'string', rule: text(), description: 'Default recorder (`recorder_id`).' }),
  cameraId: unset({ type: 'string', rule: text(), description: 'Default camera (`camera_id`), also used for arming events.' }),
  zones: items(
    { type: 'object', default: {}, description: 'Per-zone overrides keyed by zone number (decimal; "015" and "15" are the same zone).' },
    '.<zone>',
    ZONE_KEYS,
  ),
  users: plain({ type: 'object', default: {}, description: 'User names keyed by user number (decimal), put into the event payload.' }),
  signalToMonitoringCenter: object(
    { type: 'object', default: {}, description: '`should_signal_to_monitoring_center` per event type (omitted keys keep the default).' },
    SIGNAL_KEYS,
  ),
  uploads: object({ type: 'object', default: {}, description: UPLOADS_DOC }, ACCOUNT_UPLOADS_KEYS),
  timestampWindow: object(
    {
      type: 'object',
      default: new Inherited(RECEIVERS),
      description: `${WINDOW_DOC} for this account (omitted keys keep the receiver setting).`,
    },
    windowKeys(new Inherited(RECEIVERS), new Inherited(RECEIVERS)),
  ),
  supervision: object(
    { type: 'object', default: new Inherited(RECEIVERS), description: `Panel supervision of this account: ${SUPERVISION_DOC}` },
    SUPERVISION_KEYS,
  ),
  ...snapshotKeys("the account's camera"),
};

// mapping --------------------------------------------------------------------------------------------------------

export const CODE_KEYS = {
  type: required({
    type: 'string',
    rule: text('an event type: "alarm", "trouble", "arming" or another non-empty string'),
    description: 'Event type to send: "alarm", "trouble", "arming" or another type the API accepts.',
  }),
  status: inherited('the built-in one', {
    type: '"active" | "inactive"',
    rule: oneOf(['active', 'inactive'] as const),
    description: 'Event status to send.',
  }),
  signal: inherited("the account's setting", {
    type: 'boolean',
    rule: boolean,
    description: 'Overrides `should_signal_to_monitoring_center`.',
  }),
};

export const MAPPING_KEYS = {
  codes: items(
    {
      type: 'object',
      default: {},
      description: 'Overrides keyed by `sia:XX`, `cid:EEE` or `cid:Q:EEE` (Q = qualifier 1, 3 or 6); a value is "ignore" or an object.',
    },
    '.<code>',
    CODE_KEYS,
  ),
  forwardUnknown: setting({
    type: 'boolean',
    rule: boolean,
    default: false,
    description: 'Forward codes missing from the built-in tables as trouble events.',
  }),
};

// sink -----------------------------------------------------------------------------------------------------------

export const SINK_TYPES = ['file', 'partner-api'] as const;
/** Signature algorithms of the JWT client assertion (`sink.auth.algorithm`). */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'PS256'] as const;

const JWT = 'JWT auth';
const pathRule = text("a file or directory path (relative paths start from the config file's directory)");

export const AUTH_KEYS = {
  tokenUrl: required({
    type: 'http(s) URL',
    rule: httpUrl('https://example.us.auth0.com/oauth/token'),
    description: 'OAuth token endpoint.',
    when: JWT,
  }),
  audience: required({ type: 'string', rule: text(), description: 'API audience sent to the token endpoint.', when: JWT }),
  assertionAudience: required({
    type: 'string',
    rule: text(),
    description: "`aud` of the client assertion (the auth server's issuer URL, with trailing slash).",
    when: JWT,
  }),
  clientId: required({ type: 'string', rule: text(), description: 'Client id (`iss` and `sub` of the assertion).', when: JWT }),
  keyId: unset({ type: 'string', rule: text(), description: '`kid` header of the assertion.', when: JWT }),
  privateKeyFile: required({
    type: 'path',
    rule: pathRule,
    description: 'PKCS#8 PEM RSA private key (relative to the config file).',
    when: JWT,
  }),
  algorithm: setting({
    type: ASSERTION_ALGORITHMS.map((a) => `"${a}"`).join(' | '),
    rule: oneOf(ASSERTION_ALGORITHMS),
    default: 'RS256',
    description: 'Assertion signature algorithm.',
    when: JWT,
  }),
  apiKey: required({
    type: 'string',
    rule: secret('the API key (a non-empty string)'),
    description: 'Sent as the `X-API-KEY` header instead of a bearer token.',
    when: 'API key auth',
  }),
};

const API = 'partner-api sink';

export const SINK_KEYS = {
  type: required({
    type: '"file" | "partner-api"',
    rule: oneOf(SINK_TYPES),
    description: 'An NDJSON file of request bodies, or the CHeKT Partner Event API.',
  }),
  path: setting({
    type: 'path',
    rule: pathRule,
    default: 'events.ndjson',
    description: 'File the bodies are appended to (relative to the config file).',
    when: 'file sink',
  }),
  baseUrl: required({
    type: 'http(s) URL',
    rule: httpUrl('https://api.chekt.com'),
    description: 'API base URL, e.g. https://api.chekt.com.',
    when: API,
  }),
  auth: object(
    { type: 'object', default: REQUIRED, description: 'Either the JWT-assertion fields or `{ apiKey }`.', when: API },
    AUTH_KEYS,
  ),
  timeoutSeconds: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 10,
    description: 'Timeout of one HTTP request.',
    when: API,
  }),
  connections: setting({
    type: 'integer 1-1024',
    rule: integer(1, 1024),
    default: 8,
    description: 'HTTP connections to the API at most.',
    when: API,
  }),
  maxRetryAgeSeconds: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 259200,
    description: 'Stop retrying an event this long after it was received.',
    when: API,
  }),
  maxQueuedEvents: setting({
    type: 'integer 1-100000000',
    rule: integer(1, 100_000_000),
    default: 100_000,
    description: 'Without an outbox: events waiting in memory at most; past it frames are NAKed.',
    when: API,
  }),
};

// outbox, http, log ----------------------------------------------------------------------------------------------

export const OUTBOX_KEYS = {
  dir: setting({ type: 'path', rule: pathRule, default: './data/outbox', description: 'Journal directory (relative to the config file).' }),
  keyFile: unset({
    type: 'path',
    rule: pathRule,
    description:
      'Key (64 hex digits) encrypting camera credentials in the journal; unset: `media.key` in `outbox.dir`, created at first start. Keep it outside `outbox.dir` so a copy of that directory holds no usable secret.',
  }),
  ackAfter: setting({
    type: '"persisted" | "delivered"',
    rule: oneOf(['persisted', 'delivered'] as const),
    default: 'persisted',
    description: 'ACK after the fsync, or only after the API accepted the events.',
  }),
  maxBytes: setting({
    type: 'integer >= 1',
    rule: integer(1),
    default: 1073741824,
    description: 'Journal size limit; beyond it new frames are NAKed.',
  }),
  deliveredTimeoutSeconds: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 10,
    description: 'With ackAfter "delivered": NAK when the API has not accepted by then.',
  }),
  maxAgeHours: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 72,
    description: 'Undelivered events older than this go to the dead letters.',
  }),
};

// cluster (docs/cluster.md) --------------------------------------------------------------------------------------

/** `nats://host:port` (or tls://), a list of one or more. */
const natsServers: Rule<string[]> = rule('a list of NATS server URLs such as ["nats://10.0.0.1:4222"]', (v) =>
  Array.isArray(v) && v.length > 0 && v.every((u) => typeof u === 'string' && /^(nats|tls):\/\/[^\s/]+$/.test(u))
    ? (v as string[])
    : undefined,
);

export const CLUSTER_NATS_TLS_KEYS = {
  caFile: unset({ type: 'path', rule: pathRule, description: 'CA certificate (PEM) the NATS servers are checked against.' }),
  certFile: unset({ type: 'path', rule: pathRule, description: "This bridge's client certificate (PEM), with keyFile." }),
  keyFile: unset({ type: 'path', rule: pathRule, description: "The client certificate's private key (PEM)." }),
};

export const CLUSTER_NATS_KEYS = {
  servers: required({
    type: 'array of URLs',
    rule: natsServers,
    description: 'The NATS servers to connect to (any of them; the client learns no others).',
  }),
  user: unset({ type: 'string', rule: text(), description: 'User name, with password.' }),
  password: unset({ type: 'string', rule: secret(), description: 'Password, with user.' }),
  token: unset({ type: 'string', rule: secret(), description: 'Authentication token (instead of user and password).' }),
  credsFile: unset({ type: 'path', rule: pathRule, description: 'NATS credentials file (JWT and NKey seed).' }),
  tls: object(
    { type: 'object', default: UNSET, description: 'TLS to the NATS servers (paths relative to the config file).' },
    CLUSTER_NATS_TLS_KEYS,
  ),
};

export const CLUSTER_KEYS = {
  nats: object({ type: 'object', default: REQUIRED, description: 'How to reach the NATS JetStream cluster.' }, CLUSTER_NATS_KEYS),
  stream: setting({
    type: 'string',
    rule: rule('a JetStream stream name of letters, digits, "_" or "-"', (v) =>
      typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : undefined,
    ),
    default: 'ALARM_EVENTS',
    description: 'Stream holding accepted events; its KV buckets and dead-letter stream are named after it.',
  }),
  replicas: setting({
    type: 'integer 1-5',
    rule: integer(1, 5),
    default: 3,
    description: 'Copies of each event; a frame is ACKed once a quorum of them stored it.',
  }),
  instance: inherited("the machine's host name", {
    type: 'string',
    rule: rule('1-64 letters, digits, ".", "_" or "-"', (v) => (typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v) ? v : undefined)),
    description: "This bridge's name in the cluster (leases, logs, `/readyz`); unique per instance.",
  }),
  publishTimeoutSeconds: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 5,
    description: 'How long a frame waits for the stream to store its events before it is NAKed.',
  }),
  maxAgeHours: setting({
    type: 'number > 0',
    rule: positiveSeconds,
    default: 72,
    description: 'Undelivered events older than this go to the dead letters (as `outbox.maxAgeHours`).',
  }),
};

export const HTTP_AUTH_KEYS = {
  tokenFile: unset({
    type: 'path',
    rule: pathRule,
    description: 'File holding the bearer token (relative to the config file; in a browser, the password of the login prompt).',
  }),
  user: unset({ type: 'string', rule: text(), description: 'Basic-auth user name (with passwordFile, without tokenFile).' }),
  passwordFile: unset({ type: 'path', rule: pathRule, description: 'File holding the Basic-auth password (relative to the config file).' }),
};

export const HTTP_KEYS = {
  host: setting({ type: 'string', rule: host, default: '127.0.0.1', description: 'Address to bind.' }),
  port: setting({ type: 'integer 0-65535', rule: port, default: 9464, description: 'Port to bind.' }),
  auth: object(
    {
      type: 'object',
      default: UNSET,
      description:
        'Credentials for the operator console and /metrics: `{ tokenFile }` or `{ user, passwordFile }`; required when `host` is not a loopback address (docs/console.md).',
    },
    HTTP_AUTH_KEYS,
  ),
};

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const LOG_KEYS = {
  level: setting({
    type: LOG_LEVELS.map((l) => `"${l}"`).join(' | '),
    rule: oneOf(LOG_LEVELS),
    default: 'info',
    description: 'pino log level.',
  }),
};

// the file -------------------------------------------------------------------------------------------------------

const DEFAULT_PORT = 12128;

export const TOP_KEYS = {
  listeners: items(
    {
      type: 'array',
      default: TRANSPORTS.map((transport) => ({ protocol: 'dc09', transport, port: DEFAULT_PORT })),
      description: 'Sockets panels or receivers report to.',
    },
    '[]',
    LISTENER_KEYS,
  ),
  receiver: object({ type: 'object', default: {}, description: 'How frames are answered.' }, RECEIVER_KEYS),
  accounts: items(
    {
      type: 'object',
      default: {},
      description:
        'Panel accounts keyed by account number (1-16 printable characters without spaces or brackets, usually 0-9 and A-F; a Lupusec subscriber as configured in the panel; matched case-insensitively).',
    },
    '.<account>',
    ACCOUNT_KEYS,
  ),
  mapping: object({ type: 'object', default: {}, description: 'Changes to the built-in event classification.' }, MAPPING_KEYS),
  sink: object({ type: 'object', default: { type: 'file' }, description: 'Where events go.' }, SINK_KEYS),
  outbox: object(
    {
      type: 'object or null',
      default: null,
      description: 'Durable journal: frames are ACKed once their events are on disk (null: no outbox).',
    },
    OUTBOX_KEYS,
  ),
  cluster: object(
    {
      type: 'object or null',
      default: null,
      description:
        'Cluster mode: events are stored in a replicated NATS JetStream stream shared by several bridges instead of the local outbox (null: single machine; docs/cluster.md).',
    },
    CLUSTER_KEYS,
  ),
  http: object(
    {
      type: 'object or null',
      default: null,
      description: 'Status server: operator console (/), /healthz, /readyz, /metrics (null: none).',
    },
    HTTP_KEYS,
  ),
  log: object({ type: 'object', default: {}, description: 'Logging.' }, LOG_KEYS),
};

/** Names each key after its place in the table and lists them in document order (a key, then its inner keys). */
function place(table: KeyTable, at: string, out: ConfigKey[]): ConfigKey[] {
  for (const [name, entry] of Object.entries(table)) {
    entry.name = name;
    // Shared tables (supervision) appear at two places: each place gets its own copy.
    const placed: ConfigKey = { ...entry, name, key: at === '' ? name : `${at}.${name}` };
    out.push(placed);
    if (placed.inner) place(placed.inner.keys, placed.key + placed.inner.at, out);
  }
  return out;
}

export const CONFIG_KEYS: readonly ConfigKey[] = place(TOP_KEYS, '', []);

function parentOf(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot >= 0 ? key.slice(0, dot) : '';
}

/** The keys allowed in the object at `parent` (a CONFIG_KEYS pattern such as `accounts.<account>`). */
export function keysOf(parent: string, variant?: Variant): string[] {
  const names: string[] = [];
  for (const entry of CONFIG_KEYS) {
    if (parentOf(entry.key) !== parent) continue;
    if (entry.when !== undefined && entry.when !== variant) continue;
    names.push(entry.name);
  }
  return names;
}

/** The defaults of a table of settings that all have one (the signal flags, the uploads, the window). */
export function defaultsOf<K extends Record<string, Setting<any, unknown>>>(
  keys: K,
): { [N in keyof K]: K[N] extends Setting<infer T, any> ? T : never } {
  const out: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(keys)) {
    if (entry.default instanceof Inherited || entry.default === REQUIRED || entry.default === UNSET)
      throw new Error(`config key ${name} has no default of its own`);
    out[name] = entry.default;
  }
  return out as { [N in keyof K]: K[N] extends Setting<infer T, any> ? T : never };
}
