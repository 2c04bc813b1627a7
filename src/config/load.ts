/**
 * Reads and validates the configuration file (keys defined by issues #3-#8, documented in `keys.ts`), applies the
 * defaults and returns a `BridgeConfig`. Every mistake is reported at once, each naming the file, the JSON path,
 * what was found and what was expected.
 */

import { ASSERTION_ALGORITHMS, DEFAULT_SIGNAL, NO_UPLOADS } from './defaults.js';
import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';

import {
  alternatives,
  boolean,
  describe,
  entry,
  Fields,
  host,
  httpUrl,
  index,
  integer,
  mapAt,
  nullable,
  number,
  objectAt,
  oneOf,
  pathOf,
  port,
  Problems,
  rule,
  secret,
  text,
  type ConfigProblem,
  type Rule,
} from './check.js';
import { parseJsonText, JsonSyntaxError, type DuplicateKey } from './json.js';
import { keysOf } from './keys.js';
import type {
  AccountConfig,
  BridgeConfig,
  CodeOverride,
  HttpConfig,
  KeyEncoding,
  ListenerConfig,
  LogConfig,
  MappingConfig,
  OutboxConfig,
  ReceiverConfig,
  SignalConfig,
  SinkConfig,
  SupervisionConfig,
  TimestampWindow,
  UploadsConfig,
  ZoneConfig,
} from './types.js';

export { CONFIG_KEYS, type ConfigKeyDoc } from './keys.js';
export type { ConfigProblem } from './check.js';

/** An unreadable, malformed or invalid configuration file. `problems` lists each validation failure. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The file as it was named to the loader. */
    readonly file: string,
    message: string,
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
  }

  static fromProblems(file: string, problems: readonly ConfigProblem[]): ConfigError {
    const lines = problems.map((p) => `${file}: ${p.path}: found ${p.found}, expected ${p.expected}`);
    const message = lines.length === 1 ? (lines[0] as string) : [`${file}: ${lines.length} problems in the configuration:`, ...lines].join('\n');
    return new ConfigError(file, message, problems);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const DEFAULT_PORT = 12128;

function defaultWindow(): TimestampWindow {
  return { pastSeconds: 40, futureSeconds: 20 };
}

function defaultReceiver(): ReceiverConfig {
  return {
    unknownAccounts: 'reject',
    badCrc: 'nak',
    timestampWindow: defaultWindow(),
    clearTimestamps: 'flag',
    maxConnections: 10000,
    idleTimeoutSeconds: 120,
    maxFrameBytes: 4096,
    duplicateWindowSeconds: 120,
    supervision: null,
  };
}

function defaultListeners(): ListenerConfig[] {
  return (['tcp', 'udp'] as const).map((transport) => ({
    protocol: 'dc09',
    transport,
    host: '0.0.0.0',
    port: DEFAULT_PORT,
    closeAfterReplyMs: null,
  }));
}

function defaultSignal(): SignalConfig {
  return { ...DEFAULT_SIGNAL };
}

function defaultUploads(): UploadsConfig {
  return { ...NO_UPLOADS };
}

function defaultMapping(): MappingConfig {
  return { codes: {}, forwardUnknown: false };
}

const DEFAULT_LOG_LEVEL = 'info';

function defaultLog(): LogConfig {
  return { level: DEFAULT_LOG_LEVEL };
}

function defaultSink(cx: Context): SinkConfig {
  return { type: 'file', path: resolvePath(cx, DEFAULT_SINK_FILE) };
}

const DEFAULT_SINK_FILE = 'events.ndjson';
const DEFAULT_OUTBOX_DIR = './data/outbox';

/**
 * The embedded configuration of `serve` without `--config`: dc09 over TCP and UDP on 0.0.0.0:12128, every account
 * accepted (placeholder location/camera ids), events written to `events.ndjson` (in the working directory), no
 * outbox, no HTTP server.
 */
export function defaultConfig(): BridgeConfig {
  return {
    source: null,
    listeners: defaultListeners(),
    receiver: { ...defaultReceiver(), unknownAccounts: 'accept' },
    accounts: {},
    // Only with the file sink: visible placeholder ids so a first panel shows events at once (issue #3).
    mapping: { ...defaultMapping(), placeholderIds: true },
    sink: { type: 'file', path: DEFAULT_SINK_FILE },
    outbox: null,
    http: null,
    log: defaultLog(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

/** Reads, parses and validates a configuration file. Throws ConfigError naming the file for any problem. */
export async function loadConfigFile(path: string): Promise<BridgeConfig> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, `${path}: cannot read the configuration file: ${readFailure(error, path)}`);
  }
  let parsed;
  try {
    parsed = parseJsonText(content);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new ConfigError(path, `${path}: invalid JSON at line ${error.line}, column ${error.column}: ${error.reason}`);
    }
    throw error;
  }
  const problems = new Problems();
  for (const duplicate of parsed.duplicates) reportDuplicate(problems, duplicate);
  return validate(parsed.value, path, problems);
}

/**
 * Validates an already parsed JSON document. `source` is the file it came from: it names the file in errors and
 * relative paths in the file are resolved against its directory.
 */
export function parseConfig(json: unknown, source: string): BridgeConfig {
  return validate(json, source, new Problems());
}

/** The AES key of an account as bytes (hex-decoded or the ASCII characters), or null when it has none. */
export function accountKeyBytes(account: AccountConfig): Buffer | null {
  if (account.key === undefined) return null;
  return account.keyEncoding === 'ascii' ? Buffer.from(account.key, 'latin1') : Buffer.from(account.key, 'hex');
}

/**
 * The keys to try on an encrypted frame, in order: the configured reading, then — only when `keyEncoding` was left
 * out and the key is 32 hex digits — the same text as 32 ASCII characters (protocols.md §1.12: try hex first, then
 * ASCII, keep the one whose plaintext has a valid trailer).
 */
export function accountKeyCandidates(account: AccountConfig): Buffer[] {
  const key = accountKeyBytes(account);
  if (!key) return [];
  return account.keyEncodingDefaulted && account.key!.length === 32 ? [key, Buffer.from(account.key!, 'latin1')] : [key];
}

function readFailure(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const absolute = nodePath.resolve(path);
  switch (code) {
    case 'ENOENT':
      return `no such file (looked for ${absolute})`;
    case 'EISDIR':
      return `${absolute} is a directory, expected a JSON file`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied reading ${absolute}`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function reportDuplicate(problems: Problems, duplicate: DuplicateKey): void {
  const at = pathOf([...duplicate.path, duplicate.key]);
  problems.add(
    at,
    `the key ${JSON.stringify(duplicate.key)} a second time (line ${duplicate.line}, column ${duplicate.column})`,
    'each key once per object (JSON would keep only the last value)',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

/** What the validators share: the problem list and the directory relative paths are resolved against. */
interface Context {
  problems: Problems;
  baseDir: string;
}

function validate(json: unknown, source: string, problems: Problems): BridgeConfig {
  const absolute = nodePath.resolve(source);
  const cx: Context = { problems, baseDir: nodePath.dirname(absolute) };
  const top = objectAt(problems, '', json, keysOf(''), { expected: 'a JSON object with the configuration keys' });
  if (top === undefined) throw ConfigError.fromProblems(source, problems.list);

  // Sections in the documented order, so problems are listed in that order too.
  const listeners = top.nested('listeners', (v, at) => listenersConfig(cx, v, at), defaultListeners());
  const receiver = top.nested('receiver', (v, at) => receiverConfig(cx, v, at), defaultReceiver());
  const config: BridgeConfig = {
    source: absolute,
    listeners,
    receiver,
    accounts: top.nested('accounts', (v, at) => accountsConfig(cx, v, at, receiver), {}),
    mapping: top.nested('mapping', (v, at) => mappingConfig(cx, v, at), defaultMapping()),
    sink: top.nested('sink', (v, at) => sinkConfig(cx, v, at), defaultSink(cx)),
    outbox: top.nested('outbox', (v, at) => outboxConfig(cx, v, at), null),
    http: top.nested('http', (v, at) => httpConfig(cx, v, at), null),
    log: top.nested('log', (v, at) => logConfig(cx, v, at), defaultLog()),
  };
  if (problems.list.length > 0) throw ConfigError.fromProblems(source, problems.list);
  return config;
}

function resolvePath(cx: Context, path: string): string {
  return nodePath.resolve(cx.baseDir, path);
}

const pathRule = text('a file or directory path (relative paths start from the config file\'s directory)');
const positiveSeconds = number(0, true);
const nonNegativeSeconds = number(0);

// listeners ------------------------------------------------------------------------------------------------------

function listenersConfig(cx: Context, value: unknown, at: string): ListenerConfig[] {
  if (!Array.isArray(value)) {
    cx.problems.add(at, describe(value), 'an array of listener objects such as [{ "protocol": "dc09", "transport": "tcp", "port": 12128 }]');
    return [];
  }
  const listeners: ListenerConfig[] = [];
  const bound = new Map<string, number>();
  value.forEach((item, i) => {
    const listener = listenerConfig(cx, item, index(at, i));
    if (listener === undefined) return;
    listeners.push(listener);
    if (typeof listener.port !== 'number' || typeof listener.transport !== 'string' || listener.port === 0) return;
    const socket = `${listener.transport} ${listener.host}:${listener.port}`;
    const first = bound.get(socket);
    if (first !== undefined) {
      cx.problems.add(index(at, i), `a second ${listener.transport.toUpperCase()} listener on ${listener.host}:${listener.port} (${index(at, first)} binds it)`, 'each transport, host and port bound once');
    } else {
      bound.set(socket, i);
    }
  });
  return listeners;
}

function listenerConfig(cx: Context, value: unknown, at: string): ListenerConfig | undefined {
  const f = objectAt(cx.problems, at, value, keysOf('listeners[]'));
  if (f === undefined) return undefined;
  const protocol = f.required('protocol', oneOf(['dc09', 'surgard'] as const));
  const transport = f.required('transport', oneOf(['tcp', 'udp'] as const));
  if (protocol === 'surgard' && transport === 'udp') {
    cx.problems.add(f.path('transport'), describe(transport), '"tcp" (the surgard protocol runs over TCP only)');
  }
  const listener: ListenerConfig = {
    protocol,
    transport,
    host: f.get('host', host, '0.0.0.0'),
    port: f.required('port', port),
    closeAfterReplyMs: f.get('closeAfterReplyMs', nullable(integer(0, 600_000)), null),
  };
  const heartbeatAccount = f.get('heartbeatAccount', text('an account of 1-16 characters [0-9A-Za-z]'), undefined);
  if (heartbeatAccount !== undefined) {
    if (!/^[0-9A-Za-z]{1,16}$/.test(heartbeatAccount)) {
      cx.problems.add(f.path('heartbeatAccount'), describe(heartbeatAccount), 'an account of 1-16 characters [0-9A-Za-z]');
    } else if (protocol !== 'surgard') {
      cx.problems.add(f.path('heartbeatAccount'), describe(heartbeatAccount), 'no heartbeatAccount on a dc09 listener (Sur-Gard heartbeats only)');
    } else {
      listener.heartbeatAccount = heartbeatAccount.toUpperCase();
    }
  }
  if (transport === 'udp' && listener.closeAfterReplyMs !== null) {
    cx.problems.add(f.path('closeAfterReplyMs'), describe(listener.closeAfterReplyMs), 'null or no key on a UDP listener (closing after a reply applies to TCP only)');
  }
  return listener;
}

// receiver -------------------------------------------------------------------------------------------------------

function receiverConfig(cx: Context, value: unknown, at: string): ReceiverConfig {
  const d = defaultReceiver();
  const f = objectAt(cx.problems, at, value, keysOf('receiver'));
  if (f === undefined) return d;
  return {
    unknownAccounts: f.get('unknownAccounts', oneOf(['reject', 'accept'] as const), d.unknownAccounts),
    badCrc: f.get('badCrc', oneOf(['nak', 'silent'] as const), d.badCrc),
    timestampWindow: f.nested('timestampWindow', (v, p) => windowConfig(cx, v, p, d.timestampWindow), d.timestampWindow),
    clearTimestamps: f.get('clearTimestamps', oneOf(['flag', 'enforce'] as const), d.clearTimestamps),
    maxConnections: f.get('maxConnections', integer(1), d.maxConnections),
    idleTimeoutSeconds: f.get('idleTimeoutSeconds', positiveSeconds, d.idleTimeoutSeconds),
    maxFrameBytes: f.get('maxFrameBytes', integer(64, 1_048_576), d.maxFrameBytes),
    duplicateWindowSeconds: f.get('duplicateWindowSeconds', nonNegativeSeconds, d.duplicateWindowSeconds),
    supervision: f.nested('supervision', (v, p) => (v === null ? null : supervisionConfig(cx, v, p, 'an object { intervalSeconds, graceSeconds }, or null') ?? null), null),
  };
}

/** A timestamp window; omitted keys keep `base`. */
function windowConfig(cx: Context, value: unknown, at: string, base: TimestampWindow): TimestampWindow {
  const f = objectAt(cx.problems, at, value, keysOf('receiver.timestampWindow'), { expected: 'an object { pastSeconds, futureSeconds } of numbers >= 0' });
  if (f === undefined) return { ...base };
  return {
    pastSeconds: f.get('pastSeconds', nonNegativeSeconds, base.pastSeconds),
    futureSeconds: f.get('futureSeconds', nonNegativeSeconds, base.futureSeconds),
  };
}

function supervisionConfig(cx: Context, value: unknown, at: string, expected: string): SupervisionConfig | undefined {
  const f = objectAt(cx.problems, at, value, keysOf('receiver.supervision'), { expected });
  if (f === undefined) return undefined;
  return {
    intervalSeconds: f.required('intervalSeconds', positiveSeconds),
    graceSeconds: f.required('graceSeconds', nonNegativeSeconds),
  };
}

// accounts -------------------------------------------------------------------------------------------------------

const ACCOUNT_NUMBER = /^[0-9A-Za-z]{1,16}$/;
const DECIMAL = /^[0-9]{1,9}$/;

function accountsConfig(cx: Context, value: unknown, at: string, receiver: ReceiverConfig): Record<string, AccountConfig> {
  const accounts: Record<string, AccountConfig> = {};
  const entries = mapAt(cx.problems, at, value, 'an object keyed by account number, such as { "1234": { "key": "..." } }');
  if (entries === undefined) return accounts;
  const seen = new Map<string, string>();
  for (const [number, raw] of entries) {
    const where = entry(at, number);
    if (!ACCOUNT_NUMBER.test(number)) {
      cx.problems.add(where, `the account number ${JSON.stringify(number)}`, 'an account number of 1-16 characters 0-9, A-Z or a-z');
      continue;
    }
    const id = number.toUpperCase();
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      cx.problems.add(where, `account ${id}, the same account as ${entry(at, earlier)}`, 'each account number once (account numbers match case-insensitively)');
      continue;
    }
    seen.set(id, number);
    const account = accountConfig(cx, raw, where, receiver);
    if (account !== undefined) accounts[id] = account;
  }
  return accounts;
}

const HEX_KEY_LENGTHS = [32, 48, 64];
const ASCII_KEY_LENGTHS = [16, 24, 32];

function accountConfig(cx: Context, value: unknown, at: string, receiver: ReceiverConfig): AccountConfig | undefined {
  const f = objectAt(cx.problems, at, value, keysOf('accounts.<account>'));
  if (f === undefined) return undefined;
  // The key's check depends on the encoding; an invalid encoding is reported (once) by the keyEncoding check.
  const encoding = f.has('keyEncoding') ? f.raw.keyEncoding : 'hex';
  const key = f.optional('key', keyRule(encoding === 'hex' || encoding === 'ascii' ? encoding : undefined));
  const keyEncoding = f.get('keyEncoding', oneOf<KeyEncoding>(['hex', 'ascii']), 'hex');
  const ids: Pick<AccountConfig, 'locationId' | 'recorderId' | 'cameraId'> = {};
  for (const name of ['locationId', 'recorderId', 'cameraId'] as const) {
    const id = f.optional(name, text());
    if (id !== undefined) ids[name] = id;
  }
  // Zones inherit the account's uploads, so those are read before the zones.
  const uploads = f.nested('uploads', (v, p) => uploadsConfig(cx, v, p, defaultUploads()), defaultUploads());
  const account: AccountConfig = {
    ...(key === undefined ? {} : { key }),
    keyEncoding,
    ...(key !== undefined && !f.has('keyEncoding') ? { keyEncodingDefaulted: true } : {}),
    ...ids,
    zones: f.nested('zones', (v, p) => zonesConfig(cx, v, p, uploads), {}),
    users: f.nested('users', (v, p) => usersConfig(cx, v, p), {}),
    signalToMonitoringCenter: f.nested('signalToMonitoringCenter', (v, p) => signalConfig(cx, v, p), defaultSignal()),
    uploads,
  };
  const window = f.nested('timestampWindow', (v, p) => windowConfig(cx, v, p, receiver.timestampWindow), undefined);
  if (window !== undefined) account.timestampWindow = window;
  const supervision = f.nested('supervision', (v, p) => supervisionConfig(cx, v, p, 'an object { intervalSeconds, graceSeconds }'), undefined);
  if (supervision !== undefined) account.supervision = supervision;
  Object.assign(account, snapshotSource(f));
  return account;
}

/** The AES key: hex digits or ASCII characters of an AES-128/192/256 length; the key itself never shows in a message. */
function keyRule(encoding: KeyEncoding | undefined): Rule<string> {
  const aes = 'an AES-128, -192 or -256 key';
  if (encoding === undefined) return secret('a string (the AES key)');
  if (encoding === 'ascii') {
    return rule(
      `16, 24 or 32 printable ASCII characters (${aes}; keyEncoding "ascii")`,
      (v) => (typeof v === 'string' && ASCII_KEY_LENGTHS.includes(v.length) && /^[\x20-\x7e]+$/.test(v) ? v : undefined),
      describeKey,
    );
  }
  const hexKey: Rule<string> = rule(
    `32, 48 or 64 hex digits (${aes}; keyEncoding "hex")`,
    (v) => (typeof v === 'string' && HEX_KEY_LENGTHS.includes(v.length) && /^[0-9A-Fa-f]+$/.test(v) ? v : undefined),
    describeKey,
  );
  return {
    expected: hexKey.expected,
    check(value, at, problems) {
      const probe = new Problems();
      const out = hexKey.check(value, at, probe);
      if (out !== undefined) return out;
      const looksAscii = typeof value === 'string' && ASCII_KEY_LENGTHS.includes(value.length);
      const hint = looksAscii ? `${hexKey.expected}, or set keyEncoding to "ascii" for a key written as ${value.length} characters` : hexKey.expected;
      problems.add(at, describeKey(value), hint);
      return undefined;
    },
  };
}

function describeKey(value: unknown): string {
  if (typeof value !== 'string') return describe(value);
  const odd = /[^0-9A-Fa-f]/.test(value) ? ', not all hex digits' : '';
  return `a key of ${value.length} characters${odd} (not shown)`;
}

function snapshotSource(f: Fields): Pick<ZoneConfig, 'snapshotUrl' | 'snapshotUsername' | 'snapshotPassword'> {
  const out: Pick<ZoneConfig, 'snapshotUrl' | 'snapshotUsername' | 'snapshotPassword'> = {};
  const url = f.optional('snapshotUrl', httpUrl('http://192.168.1.20/ISAPI/Streaming/channels/101/picture'));
  if (url !== undefined) out.snapshotUrl = url;
  const username = f.optional('snapshotUsername', text());
  if (username !== undefined) out.snapshotUsername = username;
  const password = f.optional('snapshotPassword', secret());
  if (password !== undefined) out.snapshotPassword = password;
  return out;
}

/** Entries of a map keyed by decimal numbers (zones, users); numerically equal keys are reported. */
function numberedEntries(cx: Context, value: unknown, at: string, what: 'zone' | 'user', example: string): Array<[string, unknown]> {
  const entries = mapAt(cx.problems, at, value, `an object keyed by ${what} number, such as ${example}`);
  if (entries === undefined) return [];
  const seen = new Map<number, string>();
  const out: Array<[string, unknown]> = [];
  for (const [key, raw] of entries) {
    const where = entry(at, key);
    if (!DECIMAL.test(key)) {
      cx.problems.add(where, `the ${what} number ${JSON.stringify(key)}`, `a ${what} number written in decimal digits (at most 9), such as "15"`);
      continue;
    }
    const n = Number(key);
    const earlier = seen.get(n);
    if (earlier !== undefined) {
      cx.problems.add(where, `${what} ${n}, the same ${what} as ${entry(at, earlier)}`, `each ${what} once (${what} numbers match numerically)`);
      continue;
    }
    seen.set(n, key);
    out.push([key, raw]);
  }
  return out;
}

function zonesConfig(cx: Context, value: unknown, at: string, accountUploads: UploadsConfig): Record<string, ZoneConfig> {
  const zones: Record<string, ZoneConfig> = {};
  for (const [key, raw] of numberedEntries(cx, value, at, 'zone', '{ "15": { "cameraId": "...", "name": "Back door" } }')) {
    const f = objectAt(cx.problems, entry(at, key), raw, keysOf('accounts.<account>.zones.<zone>'));
    if (f === undefined) continue;
    const zone: ZoneConfig = {};
    for (const name of ['cameraId', 'recorderId', 'name'] as const) {
      const v = f.optional(name, text());
      if (v !== undefined) zone[name] = v;
    }
    const uploads = f.nested('uploads', (v, p) => uploadsConfig(cx, v, p, accountUploads), undefined);
    if (uploads !== undefined) zone.uploads = uploads;
    Object.assign(zone, snapshotSource(f));
    zones[key] = zone;
  }
  return zones;
}

function usersConfig(cx: Context, value: unknown, at: string): Record<string, string> {
  const users: Record<string, string> = {};
  for (const [key, raw] of numberedEntries(cx, value, at, 'user', '{ "3": "Alice" }')) {
    const name = text('a user name (a non-empty string)').check(raw, entry(at, key), cx.problems);
    if (name !== undefined) users[key] = name;
  }
  return users;
}

function signalConfig(cx: Context, value: unknown, at: string): SignalConfig {
  const d = defaultSignal();
  const f = objectAt(cx.problems, at, value, keysOf('accounts.<account>.signalToMonitoringCenter'));
  if (f === undefined) return d;
  return {
    alarm: f.get('alarm', boolean, d.alarm),
    trouble: f.get('trouble', boolean, d.trouble),
    arming: f.get('arming', boolean, d.arming),
  };
}

/** Upload settings; omitted keys keep `base` (the defaults for an account, the account's for a zone). */
function uploadsConfig(cx: Context, value: unknown, at: string, base: UploadsConfig): UploadsConfig {
  const f = objectAt(cx.problems, at, value, keysOf('accounts.<account>.uploads'));
  if (f === undefined) return { ...base };
  return {
    snapshots: f.get('snapshots', integer(0, 10), base.snapshots),
    shortMp4: f.get('shortMp4', boolean, base.shortMp4),
    eventMp4: f.get('eventMp4', boolean, base.eventMp4),
  };
}

// mapping --------------------------------------------------------------------------------------------------------

/**
 * Override keys: `sia:XX` (a SIA event code, two upper-case letters), `cid:EEE` (a Contact ID event code, three
 * hex digits, any qualifier) or `cid:Q:EEE` (Q the qualifier 1, 3 or 6). Contact ID codes are stored upper-cased.
 */
const SIA_CODE_KEY = /^sia:[A-Z]{2}$/;
const CID_CODE_KEY = /^cid:(?:[136]:)?[0-9A-Fa-f]{3}$/;
const CODE_KEY_GRAMMAR =
  '"sia:XX" (a SIA code of two upper-case letters, e.g. "sia:BA"), "cid:EEE" (a Contact ID code of three hex digits, e.g. "cid:130") or "cid:Q:EEE" (Q the qualifier 1, 3 or 6, e.g. "cid:1:401")';

/** The canonical form of a mapping key, or undefined when it does not follow the grammar. */
export function normalizeCodeKey(key: string): string | undefined {
  if (SIA_CODE_KEY.test(key)) return key;
  if (CID_CODE_KEY.test(key)) return `cid:${key.slice(4).toUpperCase()}`;
  return undefined;
}

const EVENT_TYPE_EXAMPLE = '{ "type": "alarm", "status": "active" }';

function mappingConfig(cx: Context, value: unknown, at: string): MappingConfig {
  const f = objectAt(cx.problems, at, value, keysOf('mapping'));
  if (f === undefined) return defaultMapping();
  return {
    codes: f.nested('codes', (v, p) => codesConfig(cx, v, p), {}),
    forwardUnknown: f.get('forwardUnknown', boolean, defaultMapping().forwardUnknown),
  };
}

function codesConfig(cx: Context, value: unknown, at: string): Record<string, CodeOverride> {
  const codes: Record<string, CodeOverride> = {};
  const entries = mapAt(cx.problems, at, value, `an object keyed by event code, such as { "sia:BA": ${EVENT_TYPE_EXAMPLE} }`);
  if (entries === undefined) return codes;
  const seen = new Map<string, string>();
  for (const [key, raw] of entries) {
    const where = entry(at, key);
    const code = normalizeCodeKey(key);
    if (code === undefined) {
      cx.problems.add(where, `the code key ${JSON.stringify(key)}`, CODE_KEY_GRAMMAR);
      continue;
    }
    const earlier = seen.get(code);
    if (earlier !== undefined) {
      cx.problems.add(where, `code ${code}, the same code as ${entry(at, earlier)}`, 'each code once (hex digits match case-insensitively)');
      continue;
    }
    seen.set(code, key);
    const override = codeOverride(cx, raw, where);
    if (override !== undefined) codes[code] = override;
  }
  return codes;
}

function codeOverride(cx: Context, value: unknown, at: string): CodeOverride | undefined {
  if (value === 'ignore') return 'ignore';
  if (typeof value === 'string') {
    const suggestion = value.trim() === '' ? '' : ` (a type is written as { "type": ${JSON.stringify(value)} })`;
    cx.problems.add(at, describe(value), `"ignore" or an object such as ${EVENT_TYPE_EXAMPLE}${suggestion}`);
    return undefined;
  }
  const f = objectAt(cx.problems, at, value, keysOf('mapping.codes.<code>'), {
    expected: `"ignore" or an object such as ${EVENT_TYPE_EXAMPLE}`,
  });
  if (f === undefined) return undefined;
  const override: Exclude<CodeOverride, 'ignore'> = {
    type: f.required('type', text('an event type: "alarm", "trouble", "arming" or another non-empty string')),
  };
  const status = f.optional('status', oneOf(['active', 'inactive'] as const));
  if (status !== undefined) override.status = status;
  const signal = f.optional('signal', boolean);
  if (signal !== undefined) override.signal = signal;
  return override;
}

// sink -----------------------------------------------------------------------------------------------------------

const SINK_TYPES = ['file', 'partner-api'] as const;

function sinkConfig(cx: Context, value: unknown, at: string): SinkConfig {
  const fallback = defaultSink(cx);
  const type = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
  const known = typeof type === 'string' && (SINK_TYPES as readonly string[]).includes(type);
  const variant = type === 'file' ? 'file sink' : 'partner-api sink';
  const f = objectAt(cx.problems, at, value, known ? keysOf('sink', variant) : [...new Set([...keysOf('sink', 'file sink'), ...keysOf('sink', 'partner-api sink')])], {
    expected: `an object { "type": ${alternatives(SINK_TYPES)}, ... }`,
  });
  if (f === undefined) return fallback;
  f.required('type', oneOf(SINK_TYPES));
  if (!known) return fallback;
  if (type === 'file') {
    return { type: 'file', path: resolvePath(cx, f.get('path', pathRule, DEFAULT_SINK_FILE)) };
  }
  return {
    type: 'partner-api',
    baseUrl: f.required('baseUrl', httpUrl('https://api.chekt.com')),
    auth: authConfig(cx, f),
    timeoutSeconds: f.get('timeoutSeconds', positiveSeconds, 10),
    connections: f.get('connections', integer(1, 1024), 8),
    maxRetryAgeSeconds: f.get('maxRetryAgeSeconds', positiveSeconds, 259200),
    maxQueuedEvents: f.get('maxQueuedEvents', integer(1, 100_000_000), 100_000),
  };
}

type PartnerAuth = Extract<SinkConfig, { type: 'partner-api' }>['auth'];

const AUTH_EXPECTED = 'an object with the JWT assertion fields (tokenUrl, audience, assertionAudience, clientId, privateKeyFile, ...) or { "apiKey": "..." }';

function authConfig(cx: Context, sink: Fields): PartnerAuth {
  const at = sink.path('auth');
  if (!sink.has('auth')) {
    cx.problems.add(at, 'nothing (the key is missing)', AUTH_EXPECTED);
    return { apiKey: '' };
  }
  const value = sink.raw.auth;
  const apiKeyMode = typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'apiKey');
  if (apiKeyMode) {
    const f = objectAt(cx.problems, at, value, keysOf('sink.auth', 'API key auth'), {
      unknownExpected: 'no other key next to apiKey (use either apiKey, or the JWT assertion fields without apiKey)',
    });
    return { apiKey: f?.required('apiKey', secret('the API key (a non-empty string)')) as string };
  }
  const f = objectAt(cx.problems, at, value, keysOf('sink.auth', 'JWT auth'), { expected: AUTH_EXPECTED });
  if (f === undefined) return { apiKey: '' };
  const auth: PartnerAuth = {
    tokenUrl: f.required('tokenUrl', httpUrl('https://example.us.auth0.com/oauth/token')),
    audience: f.required('audience', text()),
    assertionAudience: f.required('assertionAudience', text()),
    clientId: f.required('clientId', text()),
    privateKeyFile: resolvePath(cx, f.required('privateKeyFile', pathRule) ?? '.'),
    algorithm: f.get('algorithm', oneOf(ASSERTION_ALGORITHMS), 'RS256'),
  };
  const keyId = f.optional('keyId', text());
  if (keyId !== undefined) auth.keyId = keyId;
  return auth;
}

// outbox, http, log ----------------------------------------------------------------------------------------------

function outboxConfig(cx: Context, value: unknown, at: string): OutboxConfig | null {
  if (value === null) return null;
  const f = objectAt(cx.problems, at, value, keysOf('outbox'), { expected: `an object with the keys ${keysOf('outbox').join(', ')} (all optional), or null` });
  if (f === undefined) return null;
  const keyFile = f.optional('keyFile', pathRule);
  return {
    dir: resolvePath(cx, f.get('dir', pathRule, DEFAULT_OUTBOX_DIR)),
    ...(keyFile !== undefined ? { keyFile: resolvePath(cx, keyFile) } : {}),
    ackAfter: f.get('ackAfter', oneOf(['persisted', 'delivered'] as const), 'persisted'),
    maxBytes: f.get('maxBytes', integer(1), 1073741824),
    deliveredTimeoutSeconds: f.get('deliveredTimeoutSeconds', positiveSeconds, 10),
    maxAgeHours: f.get('maxAgeHours', positiveSeconds, 72),
  };
}

function httpConfig(cx: Context, value: unknown, at: string): HttpConfig | null {
  if (value === null) return null;
  const f = objectAt(cx.problems, at, value, keysOf('http'), { expected: 'an object { "host", "port" } (both optional), or null' });
  if (f === undefined) return null;
  return { host: f.get('host', host, '127.0.0.1'), port: f.get('port', port, 9464) };
}

function logConfig(cx: Context, value: unknown, at: string): LogConfig {
  const f = objectAt(cx.problems, at, value, keysOf('log'));
  if (f === undefined) return defaultLog();
  return { level: f.get('level', oneOf(LOG_LEVELS), DEFAULT_LOG_LEVEL) };
}
