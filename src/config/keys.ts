/**
 * Every configuration key, as data: the loader takes the allowed keys of each object from this table, so the
 * documentation generated from it (README config reference) cannot drift from what the validator accepts.
 *
 * `key` is a JSON path pattern: `listeners[]` is any listener, `<account>`, `<zone>`, `<user>` and `<code>` stand
 * for the keys of a map. `when` restricts a key to one variant of its object (the sink's `type`, the auth mode).
 */

import { ASSERTION_ALGORITHMS } from './defaults.js';

export interface ConfigKeyDoc {
  key: string;
  type: string;
  /** The value used when the key is omitted; `required` when it may not be omitted, `none` when it stays unset. */
  default: string;
  description: string;
  when?: 'file sink' | 'partner-api sink' | 'JWT auth' | 'API key auth';
}

function uploadsKeys(parent: string, fallback: string): ConfigKeyDoc[] {
  return [
    { key: `${parent}.uploads`, type: 'object', default: fallback, description: 'Media the bridge uploads with each event (omitted keys keep the default).' },
    { key: `${parent}.uploads.snapshots`, type: 'integer 0-10', default: parent.includes('<zone>') ? "the account's" : '0', description: 'Snapshots uploaded per event (`upload_snapshot_count`).' },
    { key: `${parent}.uploads.shortMp4`, type: 'boolean', default: parent.includes('<zone>') ? "the account's" : 'false', description: 'Upload a short MP4 (`upload_short_mp4`).' },
    { key: `${parent}.uploads.eventMp4`, type: 'boolean', default: parent.includes('<zone>') ? "the account's" : 'false', description: 'Upload the event MP4 (`upload_event_mp4`).' },
  ];
}

function snapshotKeys(parent: string, scope: string): ConfigKeyDoc[] {
  return [
    { key: `${parent}.snapshotUrl`, type: 'http(s) URL', default: 'none', description: `HTTP(S) URL returning a JPEG snapshot for ${scope}.` },
    { key: `${parent}.snapshotUsername`, type: 'string', default: 'none', description: 'Basic-auth user name for `snapshotUrl`.' },
    { key: `${parent}.snapshotPassword`, type: 'string', default: 'none', description: 'Basic-auth password for `snapshotUrl` (never logged).' },
  ];
}

function windowKeys(parent: string, past: string, future: string, what: string): ConfigKeyDoc[] {
  return [
    { key: `${parent}.timestampWindow`, type: 'object', default: `{ pastSeconds: ${past}, futureSeconds: ${future} }`, description: `Accepted skew of encrypted frames' timestamps against the receiver clock${what}.` },
    { key: `${parent}.timestampWindow.pastSeconds`, type: 'number >= 0', default: past, description: 'How far a frame timestamp may lie in the past.' },
    { key: `${parent}.timestampWindow.futureSeconds`, type: 'number >= 0', default: future, description: 'How far a frame timestamp may lie in the future.' },
  ];
}

function supervisionKeys(parent: string, fallback: string, what: string): ConfigKeyDoc[] {
  return [
    { key: `${parent}.supervision`, type: parent === 'receiver' ? 'object or null' : 'object', default: fallback, description: `Panel supervision${what}: a silent account raises one trouble event.` },
    { key: `${parent}.supervision.intervalSeconds`, type: 'number > 0', default: 'required', description: 'Expected reporting interval of the panel.' },
    { key: `${parent}.supervision.graceSeconds`, type: 'number >= 0', default: 'required', description: 'Extra time allowed after the interval before the failure event.' },
  ];
}

const ACCOUNT = 'accounts.<account>';
const ZONE = `${ACCOUNT}.zones.<zone>`;

export const CONFIG_KEYS: readonly ConfigKeyDoc[] = [
  { key: 'listeners', type: 'array', default: 'TCP and UDP dc09 listeners on 0.0.0.0:12128', description: 'Sockets panels or receivers report to.' },
  { key: 'listeners[].protocol', type: '"dc09" | "surgard"', default: 'required', description: 'SIA DC-09 frames, or Sur-Gard/MLR2 automation output (TCP only).' },
  { key: 'listeners[].transport', type: '"tcp" | "udp"', default: 'required', description: 'Socket type.' },
  { key: 'listeners[].host', type: 'string', default: '"0.0.0.0"', description: 'Address to bind.' },
  { key: 'listeners[].port', type: 'integer 0-65535', default: 'required', description: 'Port to bind (0 picks a free port, for tests).' },
  { key: 'listeners[].closeAfterReplyMs', type: 'integer >= 0 or null', default: 'null', description: 'TCP only: close the connection this long after each reply (some Ajax hubs need it); null keeps it open.' },
  { key: 'listeners[].heartbeatAccount', type: 'account string', default: 'none', description: 'Sur-Gard only: account the receiver heartbeats count as activity for; give that account `supervision` (and ids) to get a trouble event when the receiver goes silent.' },

  { key: 'receiver', type: 'object', default: 'all defaults below', description: 'How frames are answered.' },
  { key: 'receiver.unknownAccounts', type: '"reject" | "accept"', default: '"reject"', description: 'Frames from accounts not in `accounts`: NAK them, or process them with default settings.' },
  { key: 'receiver.badCrc', type: '"nak" | "silent"', default: '"nak"', description: 'Answer a frame with a bad CRC with NAK, or not at all.' },
  ...windowKeys('receiver', '40', '20', ''),
  { key: 'receiver.clearTimestamps', type: '"flag" | "enforce"', default: '"flag"', description: 'Clear-text frames with a skewed timestamp: accept and flag them, or NAK them.' },
  { key: 'receiver.maxConnections', type: 'integer >= 1', default: '10000', description: 'Open TCP connections at most; further ones are refused and logged.' },
  { key: 'receiver.idleTimeoutSeconds', type: 'number > 0', default: '120', description: 'Close a TCP connection idle this long.' },
  { key: 'receiver.maxFrameBytes', type: 'integer 64-1048576', default: '4096', description: 'Largest frame accepted; the per-connection buffer is capped at this.' },
  { key: 'receiver.duplicateWindowSeconds', type: 'number >= 0', default: '120', description: 'A repeated frame within this time is answered again but not forwarded twice (0 disables).' },
  ...supervisionKeys('receiver', 'null', ' default for every configured account (null: none)'),

  { key: 'accounts', type: 'object', default: '{}', description: 'Panel accounts keyed by account number (1-16 characters 0-9, A-Z; matched case-insensitively).' },
  { key: `${ACCOUNT}.key`, type: 'string', default: 'none', description: 'AES key; when set, the account must send encrypted frames.' },
  { key: `${ACCOUNT}.keyEncoding`, type: '"hex" | "ascii"', default: '"hex"', description: '`hex`: 32, 48 or 64 hex digits; `ascii`: 16, 24 or 32 characters used as they are. Left out, a 32-hex-digit key is tried as hex first, then as 32 ASCII characters (AES-256, as Home Assistant users enter it).' },
  { key: `${ACCOUNT}.locationId`, type: 'string', default: 'none', description: 'CHeKT location (`location_id`); events of an account without it are kept as unmapped.' },
  { key: `${ACCOUNT}.recorderId`, type: 'string', default: 'none', description: 'Default recorder (`recorder_id`).' },
  { key: `${ACCOUNT}.cameraId`, type: 'string', default: 'none', description: 'Default camera (`camera_id`), also used for arming events.' },
  { key: `${ACCOUNT}.zones`, type: 'object', default: '{}', description: 'Per-zone overrides keyed by zone number (decimal; "015" and "15" are the same zone).' },
  { key: `${ZONE}.cameraId`, type: 'string', default: "the account's", description: 'Camera for events of this zone.' },
  { key: `${ZONE}.recorderId`, type: 'string', default: "the account's", description: 'Recorder for events of this zone.' },
  { key: `${ZONE}.name`, type: 'string', default: 'none', description: 'Zone name, put into the event payload.' },
  ...uploadsKeys(ZONE, "the account's"),
  ...snapshotKeys(ZONE, 'events of this zone'),
  { key: `${ACCOUNT}.users`, type: 'object', default: '{}', description: 'User names keyed by user number (decimal), put into the event payload.' },
  { key: `${ACCOUNT}.signalToMonitoringCenter`, type: 'object', default: '{ alarm: true, trouble: false, arming: false }', description: '`should_signal_to_monitoring_center` per event type (omitted keys keep the default).' },
  { key: `${ACCOUNT}.signalToMonitoringCenter.alarm`, type: 'boolean', default: 'true', description: 'For alarm events.' },
  { key: `${ACCOUNT}.signalToMonitoringCenter.trouble`, type: 'boolean', default: 'false', description: 'For trouble events.' },
  { key: `${ACCOUNT}.signalToMonitoringCenter.arming`, type: 'boolean', default: 'false', description: 'For arming events.' },
  ...uploadsKeys(ACCOUNT, '{ snapshots: 0, shortMp4: false, eventMp4: false }'),
  ...windowKeys(ACCOUNT, "the receiver's", "the receiver's", ' for this account (omitted keys keep the receiver setting)'),
  ...supervisionKeys(ACCOUNT, "the receiver's", ' of this account'),
  ...snapshotKeys(ACCOUNT, "the account's camera"),

  { key: 'mapping', type: 'object', default: '{ codes: {}, forwardUnknown: false }', description: 'Changes to the built-in event classification.' },
  { key: 'mapping.codes', type: 'object', default: '{}', description: 'Overrides keyed by `sia:XX`, `cid:EEE` or `cid:Q:EEE` (Q = qualifier 1, 3 or 6); a value is "ignore" or an object.' },
  { key: 'mapping.codes.<code>.type', type: 'string', default: 'required', description: 'Event type to send: "alarm", "trouble", "arming" or another type the API accepts.' },
  { key: 'mapping.codes.<code>.status', type: '"active" | "inactive"', default: 'the built-in one', description: 'Event status to send.' },
  { key: 'mapping.codes.<code>.signal', type: 'boolean', default: "the account's setting", description: 'Overrides `should_signal_to_monitoring_center`.' },
  { key: 'mapping.forwardUnknown', type: 'boolean', default: 'false', description: 'Forward codes missing from the built-in tables as trouble events.' },

  { key: 'sink', type: 'object', default: '{ type: "file", path: "events.ndjson" }', description: 'Where events go.' },
  { key: 'sink.type', type: '"file" | "partner-api"', default: 'required', description: 'An NDJSON file of request bodies, or the CHeKT Partner Event API.' },
  { key: 'sink.path', type: 'path', default: '"events.ndjson"', description: 'File the bodies are appended to (relative to the config file).', when: 'file sink' },
  { key: 'sink.baseUrl', type: 'http(s) URL', default: 'required', description: 'API base URL, e.g. https://api.chekt.com.', when: 'partner-api sink' },
  { key: 'sink.auth', type: 'object', default: 'required', description: 'Either the JWT-assertion fields or `{ apiKey }`.', when: 'partner-api sink' },
  { key: 'sink.auth.tokenUrl', type: 'http(s) URL', default: 'required', description: 'OAuth token endpoint.', when: 'JWT auth' },
  { key: 'sink.auth.audience', type: 'string', default: 'required', description: 'API audience sent to the token endpoint.', when: 'JWT auth' },
  { key: 'sink.auth.assertionAudience', type: 'string', default: 'required', description: "`aud` of the client assertion (the auth server's issuer URL, with trailing slash).", when: 'JWT auth' },
  { key: 'sink.auth.clientId', type: 'string', default: 'required', description: 'Client id (`iss` and `sub` of the assertion).', when: 'JWT auth' },
  { key: 'sink.auth.keyId', type: 'string', default: 'none', description: '`kid` header of the assertion.', when: 'JWT auth' },
  { key: 'sink.auth.privateKeyFile', type: 'path', default: 'required', description: 'PKCS#8 PEM RSA private key (relative to the config file).', when: 'JWT auth' },
  { key: 'sink.auth.algorithm', type: ASSERTION_ALGORITHMS.map((a) => `"${a}"`).join(' | '), default: '"RS256"', description: 'Assertion signature algorithm.', when: 'JWT auth' },
  { key: 'sink.auth.apiKey', type: 'string', default: 'required', description: 'Sent as the `X-API-KEY` header instead of a bearer token.', when: 'API key auth' },
  { key: 'sink.timeoutSeconds', type: 'number > 0', default: '10', description: 'Timeout of one HTTP request.', when: 'partner-api sink' },
  { key: 'sink.connections', type: 'integer 1-1024', default: '8', description: 'HTTP connections to the API at most.', when: 'partner-api sink' },
  { key: 'sink.maxRetryAgeSeconds', type: 'number > 0', default: '259200', description: 'Stop retrying an event this long after it was received.', when: 'partner-api sink' },
  { key: 'sink.maxQueuedEvents', type: 'integer 1-100000000', default: '100000', description: 'Without an outbox: events waiting in memory at most; past it frames are NAKed.', when: 'partner-api sink' },

  { key: 'outbox', type: 'object or null', default: 'null (no outbox)', description: 'Durable journal: frames are ACKed once their events are on disk.' },
  { key: 'outbox.dir', type: 'path', default: '"./data/outbox"', description: 'Journal directory (relative to the config file).' },
  { key: 'outbox.keyFile', type: 'path', default: '"<outbox.dir>/media.key" (created)', description: 'Key (64 hex digits) encrypting camera credentials in the journal; keep it outside outbox.dir so a copy of that directory holds no usable secret.' },
  { key: 'outbox.ackAfter', type: '"persisted" | "delivered"', default: '"persisted"', description: 'ACK after the fsync, or only after the API accepted the events.' },
  { key: 'outbox.maxBytes', type: 'integer >= 1', default: '1073741824', description: 'Journal size limit; beyond it new frames are NAKed.' },
  { key: 'outbox.deliveredTimeoutSeconds', type: 'number > 0', default: '10', description: 'With ackAfter "delivered": NAK when the API has not accepted by then.' },
  { key: 'outbox.maxAgeHours', type: 'number > 0', default: '72', description: 'Undelivered events older than this go to the dead letters.' },

  { key: 'http', type: 'object or null', default: 'null (no HTTP server)', description: 'Health and metrics server (/healthz, /readyz, /metrics).' },
  { key: 'http.host', type: 'string', default: '"127.0.0.1"', description: 'Address to bind.' },
  { key: 'http.port', type: 'integer 0-65535', default: '9464', description: 'Port to bind.' },

  { key: 'log', type: 'object', default: '{ level: "info" }', description: 'Logging.' },
  { key: 'log.level', type: '"trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent"', default: '"info"', description: 'pino log level.' },
];

function parentOf(key: string): string {
  const dot = key.lastIndexOf('.');
  if (dot >= 0) return key.slice(0, dot);
  return '';
}

function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('.') + 1);
}

/** The keys allowed in the object at `parent` (a CONFIG_KEYS pattern such as `accounts.<account>`). */
export function keysOf(parent: string, variant?: ConfigKeyDoc['when']): string[] {
  const names: string[] = [];
  for (const doc of CONFIG_KEYS) {
    if (parentOf(doc.key) !== parent) continue;
    if (doc.when !== undefined && doc.when !== variant) continue;
    names.push(nameOf(doc.key));
  }
  return names;
}
