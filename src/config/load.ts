/**
 * Reads and validates the configuration file with the rules of the key table (`keys.ts`, issues #3-#8), applies
 * its defaults and returns a `BridgeConfig`. Every mistake is reported at once, each naming the file, the JSON path,
 * what was found and what was expected.
 */

import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as nodePath from 'node:path';

import {
  alternatives,
  describe,
  entry,
  Fields,
  index,
  mapAt,
  objectAt,
  pathOf,
  Problems,
  rule,
  secret,
  text,
  type ConfigProblem,
  type Rule,
} from './check.js';
import { DEFAULT_SIGNAL, NO_UPLOADS } from './defaults.js';
import { parseJsonText, JsonSyntaxError, type DuplicateKey } from './json.js';
import { isLoopbackHost } from '../http/incoming.js';
import {
  ACCOUNT_KEYS,
  ACCOUNT_TEXT,
  ACCOUNT_UPLOADS_KEYS,
  AUTH_KEYS,
  CLUSTER_KEYS,
  CLUSTER_NATS_KEYS,
  CLUSTER_NATS_TLS_KEYS,
  CODE_KEYS,
  defaultsOf,
  HTTP_AUTH_KEYS,
  HTTP_KEYS,
  keysOf,
  LISTENER_KEYS,
  LOG_KEYS,
  MAPPING_KEYS,
  OUTBOX_KEYS,
  RECEIVER_KEYS,
  SIGNAL_KEYS,
  SINK_KEYS,
  SINK_TYPES,
  SUPERVISION_KEYS,
  TOP_KEYS,
  WINDOW_KEYS,
  ZONE_KEYS,
  type ConfigKey,
  type Inherited,
  type REQUIRED,
  type Setting,
  type UNSET,
} from './keys.js';
import type {
  AccountConfig,
  BridgeConfig,
  ClusterConfig,
  CodeOverride,
  HttpAuthConfig,
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

export { CONFIG_KEYS, type ConfigKey } from './keys.js';
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
    const message =
      lines.length === 1 ? (lines[0] as string) : [`${file}: ${lines.length} problems in the configuration:`, ...lines].join('\n');
    return new ConfigError(file, message, problems);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults

/**
 * The embedded configuration of `serve` without `--config`: the defaults of every key (dc09 over TCP and UDP on
 * 0.0.0.0:12128, events written to `events.ndjson` in the working directory, no outbox, no HTTP server), except
 * that every account is accepted, with placeholder location/camera ids.
 */
export function defaultConfig(): BridgeConfig {
  const config = read({}, { problems: new Problems(), baseDir: '.' }) as Omit<BridgeConfig, 'source'>;
  return {
    ...config,
    source: null,
    receiver: { ...config.receiver, unknownAccounts: 'accept' },
    // Only with the file sink: visible placeholder ids so a first panel shows events at once (issue #3).
    mapping: { ...config.mapping, placeholderIds: true },
    sink: { type: 'file', path: SINK_KEYS.path.default },
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
 * out and the key is 32 hex digits — the same text as 32 ASCII characters (docs/dc09.md §12: try hex first, then
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
  const config = read(json, { problems, baseDir: nodePath.dirname(absolute) });
  if (config === undefined || problems.list.length > 0) throw ConfigError.fromProblems(source, problems.list);
  return { ...config, source: absolute };
}

function read(json: unknown, cx: Context): Omit<BridgeConfig, 'source'> | undefined {
  const top = objectAt(cx.problems, '', json, keysOf(''), { expected: 'a JSON object with the configuration keys' });
  if (top === undefined) return undefined;
  // Sections in the documented order, so problems are listed in that order too.
  const listeners = section(top, TOP_KEYS.listeners, (v, at) => listenersConfig(cx, v, at));
  const receiver = section(top, TOP_KEYS.receiver, (v, at) => receiverConfig(cx, v, at));
  return {
    listeners,
    receiver,
    accounts: section(top, TOP_KEYS.accounts, (v, at) => accountsConfig(cx, v, at, receiver)),
    mapping: section(top, TOP_KEYS.mapping, (v, at) => mappingConfig(cx, v, at)),
    sink: section(top, TOP_KEYS.sink, (v, at) => sinkConfig(cx, v, at)),
    outbox: section(top, TOP_KEYS.outbox, (v, at) => outboxConfig(cx, v, at)),
    cluster: clusterConfig(cx, top),
    http: section(top, TOP_KEYS.http, (v, at) => httpConfig(cx, v, at)),
    log: section(top, TOP_KEYS.log, (v, at) => logConfig(cx, v, at)),
  };
}

/** An object or list key: the file's value, else the table's default (written as in a file), read by `read`. */
function section<T>(f: Fields, key: ConfigKey, read: (value: unknown, at: string) => T): T {
  return read(f.has(key.name) ? f.raw[key.name] : key.default, f.path(key.name));
}

/** A key with a default of its own: the file's value, else the table's default. */
function valueOf<T>(f: Fields, key: Setting<T, T>): T {
  return f.get(key.name, key.rule, key.default);
}

function requiredOf<T>(f: Fields, key: Setting<T, typeof REQUIRED>): T {
  return f.required(key.name, key.rule);
}

/** A key that stays unset when left out (or follows a wider setting the user of the configuration applies). */
function optionalOf<T>(f: Fields, key: Setting<T, typeof UNSET | Inherited>): T | undefined {
  return f.optional(key.name, key.rule);
}

/** A key that follows a wider setting, `base`, when left out. */
function orBase<T>(f: Fields, key: Setting<T, unknown>, base: T): T {
  return f.get(key.name, key.rule, base);
}

function resolvePath(cx: Context, path: string): string {
  return nodePath.resolve(cx.baseDir, path);
}

// listeners ------------------------------------------------------------------------------------------------------

function listenersConfig(cx: Context, value: unknown, at: string): ListenerConfig[] {
  if (!Array.isArray(value)) {
    cx.problems.add(
      at,
      describe(value),
      'an array of listener objects such as [{ "protocol": "dc09", "transport": "tcp", "port": 12128 }]',
    );
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
      cx.problems.add(
        index(at, i),
        `a second ${listener.transport.toUpperCase()} listener on ${listener.host}:${listener.port} (${index(at, first)} binds it)`,
        'each transport, host and port bound once',
      );
    } else {
      bound.set(socket, i);
    }
  });
  return listeners;
}

function listenerConfig(cx: Context, value: unknown, at: string): ListenerConfig | undefined {
  const f = objectAt(cx.problems, at, value, keysOf('listeners[]'));
  if (f === undefined) return undefined;
  const protocol = requiredOf(f, LISTENER_KEYS.protocol);
  const transport = requiredOf(f, LISTENER_KEYS.transport);
  if (protocol !== undefined && protocol !== 'dc09' && transport === 'udp') {
    cx.problems.add(f.path('transport'), describe(transport), `"tcp" (the ${protocol} protocol runs over TCP only)`);
  }
  const listener: ListenerConfig = {
    protocol,
    transport,
    host: valueOf(f, LISTENER_KEYS.host),
    port: requiredOf(f, LISTENER_KEYS.port),
    closeAfterReplyMs: valueOf(f, LISTENER_KEYS.closeAfterReplyMs),
    proxyProtocol: valueOf(f, LISTENER_KEYS.proxyProtocol),
  };
  const heartbeatAccount = optionalOf(f, LISTENER_KEYS.heartbeatAccount);
  if (heartbeatAccount !== undefined) {
    if (!ACCOUNT_NUMBER.test(heartbeatAccount)) {
      cx.problems.add(f.path('heartbeatAccount'), describe(heartbeatAccount), ACCOUNT_TEXT);
    } else if (protocol !== 'surgard') {
      cx.problems.add(
        f.path('heartbeatAccount'),
        describe(heartbeatAccount),
        `no heartbeatAccount on a ${protocol} listener (Sur-Gard heartbeats only)`,
      );
    } else {
      listener.heartbeatAccount = heartbeatAccount.toUpperCase();
    }
  }
  if (transport === 'udp' && listener.proxyProtocol) {
    cx.problems.add(
      f.path('proxyProtocol'),
      describe(true),
      'false or no key on a UDP listener (PROXY protocol headers apply to TCP only)',
    );
  }
  if (transport === 'udp' && listener.closeAfterReplyMs !== null) {
    cx.problems.add(
      f.path('closeAfterReplyMs'),
      describe(listener.closeAfterReplyMs),
      'null or no key on a UDP listener (closing after a reply applies to TCP only)',
    );
  }
  return listener;
}

// receiver -------------------------------------------------------------------------------------------------------

const RECEIVER_WINDOW = defaultsOf(WINDOW_KEYS);

function receiverConfig(cx: Context, value: unknown, at: string): ReceiverConfig {
  // Read even when invalid, for the defaults (the problem is recorded).
  const f = objectAt(cx.problems, at, value, keysOf('receiver')) ?? new Fields(cx.problems, at, {});
  return {
    unknownAccounts: valueOf(f, RECEIVER_KEYS.unknownAccounts),
    badCrc: valueOf(f, RECEIVER_KEYS.badCrc),
    timestampWindow: section(f, RECEIVER_KEYS.timestampWindow, (v, p) => windowConfig(cx, v, p, RECEIVER_WINDOW)),
    clearTimestamps: valueOf(f, RECEIVER_KEYS.clearTimestamps),
    maxConnections: valueOf(f, RECEIVER_KEYS.maxConnections),
    maxConnectionsPerSource: valueOf(f, RECEIVER_KEYS.maxConnectionsPerSource),
    idleTimeoutSeconds: valueOf(f, RECEIVER_KEYS.idleTimeoutSeconds),
    udpDatagramsPerSecondPerSource: valueOf(f, RECEIVER_KEYS.udpDatagramsPerSecondPerSource),
    udpBurstPerSource: valueOf(f, RECEIVER_KEYS.udpBurstPerSource),
    maxFrameBytes: valueOf(f, RECEIVER_KEYS.maxFrameBytes),
    duplicateWindowSeconds: valueOf(f, RECEIVER_KEYS.duplicateWindowSeconds),
    supervision: section(f, RECEIVER_KEYS.supervision, (v, p) =>
      v === null ? null : (supervisionConfig(cx, v, p, 'an object { intervalSeconds, graceSeconds }, or null') ?? null),
    ),
  };
}

/** A timestamp window; omitted keys keep `base` (the key table's defaults for the receiver, its window for an account). */
function windowConfig(cx: Context, value: unknown, at: string, base: TimestampWindow): TimestampWindow {
  const f = objectAt(cx.problems, at, value, keysOf('receiver.timestampWindow'), {
    expected: 'an object { pastSeconds, futureSeconds } of numbers >= 0',
  });
  if (f === undefined) return { ...base };
  return {
    pastSeconds: orBase(f, WINDOW_KEYS.pastSeconds, base.pastSeconds),
    futureSeconds: orBase(f, WINDOW_KEYS.futureSeconds, base.futureSeconds),
  };
}

function supervisionConfig(cx: Context, value: unknown, at: string, expected: string): SupervisionConfig | undefined {
  const f = objectAt(cx.problems, at, value, keysOf('receiver.supervision'), { expected });
  if (f === undefined) return undefined;
  return {
    intervalSeconds: requiredOf(f, SUPERVISION_KEYS.intervalSeconds),
    graceSeconds: requiredOf(f, SUPERVISION_KEYS.graceSeconds),
  };
}

// accounts -------------------------------------------------------------------------------------------------------

/**
 * 1-16 printable characters without spaces or brackets: DC-09 panels send 0-9 and A-F, but a Lupusec subscriber is
 * free text (docs/contact-id.md §5) and is configured as the account.
 */
const ACCOUNT_NUMBER = /^[\x21-\x5a\x5c\x5e-\x7e]{1,16}$/;
const ACCOUNT_NUMBER_TEXT = 'an account number of 1-16 printable characters without spaces or brackets';
const DECIMAL = /^[0-9]{1,9}$/;

function accountsConfig(cx: Context, value: unknown, at: string, receiver: ReceiverConfig): Record<string, AccountConfig> {
  const accounts: Record<string, AccountConfig> = {};
  const entries = mapAt(cx.problems, at, value, 'an object keyed by account number, such as { "1234": { "key": "..." } }');
  if (entries === undefined) return accounts;
  const seen = new Map<string, string>();
  for (const [number, raw] of entries) {
    const where = entry(at, number);
    if (!ACCOUNT_NUMBER.test(number)) {
      cx.problems.add(where, `the account number ${JSON.stringify(number)}`, ACCOUNT_NUMBER_TEXT);
      continue;
    }
    const id = number.toUpperCase();
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      cx.problems.add(
        where,
        `account ${id}, the same account as ${entry(at, earlier)}`,
        'each account number once (account numbers match case-insensitively)',
      );
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
  const keyEncoding = valueOf(f, ACCOUNT_KEYS.keyEncoding);
  const ids: Pick<AccountConfig, 'locationId' | 'recorderId' | 'cameraId'> = {};
  for (const name of ['locationId', 'recorderId', 'cameraId'] as const) {
    const id = optionalOf(f, ACCOUNT_KEYS[name]);
    if (id !== undefined) ids[name] = id;
  }
  // Zones inherit the account's uploads, so those are read before the zones.
  const uploads = section(f, ACCOUNT_KEYS.uploads, (v, p) => uploadsConfig(cx, v, p, NO_UPLOADS));
  const account: AccountConfig = {
    ...(key === undefined ? {} : { key }),
    keyEncoding,
    ...(key !== undefined && !f.has('keyEncoding') ? { keyEncodingDefaulted: true } : {}),
    ...ids,
    zones: section(f, ACCOUNT_KEYS.zones, (v, p) => zonesConfig(cx, v, p, uploads)),
    users: section(f, ACCOUNT_KEYS.users, (v, p) => usersConfig(cx, v, p)),
    signalToMonitoringCenter: section(f, ACCOUNT_KEYS.signalToMonitoringCenter, (v, p) => signalConfig(cx, v, p)),
    uploads,
  };
  // Left out, these follow the receiver's settings (applied where they are used).
  const window = f.nested('timestampWindow', (v, p) => windowConfig(cx, v, p, receiver.timestampWindow), undefined);
  if (window !== undefined) account.timestampWindow = window;
  const supervision = f.nested(
    'supervision',
    (v, p) => supervisionConfig(cx, v, p, 'an object { intervalSeconds, graceSeconds }'),
    undefined,
  );
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
      const hint = looksAscii
        ? `${hexKey.expected}, or set keyEncoding to "ascii" for a key written as ${value.length} characters`
        : hexKey.expected;
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
  for (const name of ['snapshotUrl', 'snapshotUsername', 'snapshotPassword'] as const) {
    const v = optionalOf(f, ACCOUNT_KEYS[name]);
    if (v !== undefined) out[name] = v;
  }
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
      cx.problems.add(
        where,
        `the ${what} number ${JSON.stringify(key)}`,
        `a ${what} number written in decimal digits (at most 9), such as "15"`,
      );
      continue;
    }
    const n = Number(key);
    const earlier = seen.get(n);
    if (earlier !== undefined) {
      cx.problems.add(
        where,
        `${what} ${n}, the same ${what} as ${entry(at, earlier)}`,
        `each ${what} once (${what} numbers match numerically)`,
      );
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
      const v = optionalOf(f, ZONE_KEYS[name]);
      if (v !== undefined) zone[name] = v;
    }
    // Left out, the zone has no uploads of its own (the account's apply); given, omitted keys keep the account's.
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
  const f = objectAt(cx.problems, at, value, keysOf('accounts.<account>.signalToMonitoringCenter'));
  if (f === undefined) return { ...DEFAULT_SIGNAL };
  return {
    alarm: valueOf(f, SIGNAL_KEYS.alarm),
    trouble: valueOf(f, SIGNAL_KEYS.trouble),
    arming: valueOf(f, SIGNAL_KEYS.arming),
  };
}

/** Upload settings; omitted keys keep `base` (the defaults for an account, the account's for a zone). */
function uploadsConfig(cx: Context, value: unknown, at: string, base: UploadsConfig): UploadsConfig {
  const f = objectAt(cx.problems, at, value, keysOf('accounts.<account>.uploads'));
  if (f === undefined) return { ...base };
  return {
    snapshots: orBase(f, ACCOUNT_UPLOADS_KEYS.snapshots, base.snapshots),
    shortMp4: orBase(f, ACCOUNT_UPLOADS_KEYS.shortMp4, base.shortMp4),
    eventMp4: orBase(f, ACCOUNT_UPLOADS_KEYS.eventMp4, base.eventMp4),
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
  const f = objectAt(cx.problems, at, value, keysOf('mapping')) ?? new Fields(cx.problems, at, {});
  return {
    codes: section(f, MAPPING_KEYS.codes, (v, p) => codesConfig(cx, v, p)),
    forwardUnknown: valueOf(f, MAPPING_KEYS.forwardUnknown),
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
      cx.problems.add(
        where,
        `code ${code}, the same code as ${entry(at, earlier)}`,
        'each code once (hex digits match case-insensitively)',
      );
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
    type: requiredOf(f, CODE_KEYS.type),
  };
  // Left out, the built-in status and the account's signal setting apply (in the mapper).
  const status = optionalOf(f, CODE_KEYS.status);
  if (status !== undefined) override.status = status;
  const signal = optionalOf(f, CODE_KEYS.signal);
  if (signal !== undefined) override.signal = signal;
  return override;
}

// sink -----------------------------------------------------------------------------------------------------------

function sinkConfig(cx: Context, value: unknown, at: string): SinkConfig {
  const fallback: SinkConfig = { type: 'file', path: resolvePath(cx, SINK_KEYS.path.default) };
  const type = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
  const known = typeof type === 'string' && (SINK_TYPES as readonly string[]).includes(type);
  const variant = type === 'file' ? 'file sink' : 'partner-api sink';
  const f = objectAt(
    cx.problems,
    at,
    value,
    known ? keysOf('sink', variant) : [...new Set([...keysOf('sink', 'file sink'), ...keysOf('sink', 'partner-api sink')])],
    {
      expected: `an object { "type": ${alternatives(SINK_TYPES)}, ... }`,
    },
  );
  if (f === undefined) return fallback;
  requiredOf(f, SINK_KEYS.type);
  if (!known) return fallback;
  if (type === 'file') {
    return { type: 'file', path: resolvePath(cx, valueOf(f, SINK_KEYS.path)) };
  }
  return {
    type: 'partner-api',
    baseUrl: requiredOf(f, SINK_KEYS.baseUrl),
    auth: authConfig(cx, f),
    timeoutSeconds: valueOf(f, SINK_KEYS.timeoutSeconds),
    connections: valueOf(f, SINK_KEYS.connections),
    maxRetryAgeSeconds: valueOf(f, SINK_KEYS.maxRetryAgeSeconds),
    maxQueuedEvents: valueOf(f, SINK_KEYS.maxQueuedEvents),
  };
}

type PartnerAuth = Extract<SinkConfig, { type: 'partner-api' }>['auth'];

const AUTH_EXPECTED =
  'an object with the JWT assertion fields (tokenUrl, audience, assertionAudience, clientId, privateKeyFile, ...) or { "apiKey": "..." }';

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
    return { apiKey: (f && requiredOf(f, AUTH_KEYS.apiKey)) as string };
  }
  const f = objectAt(cx.problems, at, value, keysOf('sink.auth', 'JWT auth'), { expected: AUTH_EXPECTED });
  if (f === undefined) return { apiKey: '' };
  const auth: PartnerAuth = {
    tokenUrl: requiredOf(f, AUTH_KEYS.tokenUrl),
    audience: requiredOf(f, AUTH_KEYS.audience),
    assertionAudience: requiredOf(f, AUTH_KEYS.assertionAudience),
    clientId: requiredOf(f, AUTH_KEYS.clientId),
    privateKeyFile: resolvePath(cx, requiredOf(f, AUTH_KEYS.privateKeyFile) ?? '.'),
    algorithm: valueOf(f, AUTH_KEYS.algorithm),
  };
  const keyId = optionalOf(f, AUTH_KEYS.keyId);
  if (keyId !== undefined) auth.keyId = keyId;
  return auth;
}

// outbox, http, log ----------------------------------------------------------------------------------------------

function outboxConfig(cx: Context, value: unknown, at: string): OutboxConfig | null {
  if (value === null) return null;
  const f = objectAt(cx.problems, at, value, keysOf('outbox'), {
    expected: `an object with the keys ${keysOf('outbox').join(', ')} (all optional), or null`,
  });
  if (f === undefined) return null;
  const keyFile = optionalOf(f, OUTBOX_KEYS.keyFile);
  return {
    dir: resolvePath(cx, valueOf(f, OUTBOX_KEYS.dir)),
    ...(keyFile !== undefined ? { keyFile: resolvePath(cx, keyFile) } : {}),
    ackAfter: valueOf(f, OUTBOX_KEYS.ackAfter),
    maxBytes: valueOf(f, OUTBOX_KEYS.maxBytes),
    deliveredTimeoutSeconds: valueOf(f, OUTBOX_KEYS.deliveredTimeoutSeconds),
    maxAgeHours: valueOf(f, OUTBOX_KEYS.maxAgeHours),
  };
}

// cluster (docs/cluster.md §2) ------------------------------------------------------------------------------------

const CLUSTER_EXPECTED = `an object with the keys ${keysOf('cluster').join(', ')} (nats required), or null`;

/** `cluster`, which replaces the outbox: both set is a problem naming both. */
function clusterConfig(cx: Context, top: Fields): ClusterConfig | null {
  const value = top.has('cluster') ? top.raw['cluster'] : null;
  if (value === null) return null;
  const at = top.path('cluster');
  const f = objectAt(cx.problems, at, value, keysOf('cluster'), { expected: CLUSTER_EXPECTED });
  if (f === undefined) return null;
  if (top.has('outbox') && top.raw['outbox'] !== null) {
    cx.problems.add(
      at,
      'both "cluster" and "outbox"',
      'one of them: in cluster mode the events are kept in the NATS JetStream stream, not in a local outbox (set "outbox" to null or remove it)',
    );
  }
  const nats = f.nested('nats', (v, natsAt) => clusterNatsConfig(cx, v, natsAt), undefined);
  if (!f.has('nats')) cx.problems.add(f.path('nats'), 'nothing (the key is missing)', '{ "servers": ["nats://127.0.0.1:4222"] }');
  return {
    nats: nats ?? { servers: [] },
    stream: valueOf(f, CLUSTER_KEYS.stream),
    replicas: valueOf(f, CLUSTER_KEYS.replicas),
    instance: optionalOf(f, CLUSTER_KEYS.instance) ?? hostname(),
    publishTimeoutSeconds: valueOf(f, CLUSTER_KEYS.publishTimeoutSeconds),
    maxAgeHours: valueOf(f, CLUSTER_KEYS.maxAgeHours),
  };
}

function clusterNatsConfig(cx: Context, value: unknown, at: string): ClusterConfig['nats'] | undefined {
  const f = objectAt(cx.problems, at, value, keysOf('cluster.nats'));
  if (f === undefined) return undefined;
  const nats: ClusterConfig['nats'] = { servers: requiredOf(f, CLUSTER_NATS_KEYS.servers) };
  const [user, password, token, credsFile] = [
    optionalOf(f, CLUSTER_NATS_KEYS.user),
    optionalOf(f, CLUSTER_NATS_KEYS.password),
    optionalOf(f, CLUSTER_NATS_KEYS.token),
    optionalOf(f, CLUSTER_NATS_KEYS.credsFile),
  ];
  if ((user === undefined) !== (password === undefined)) {
    cx.problems.add(f.path(user === undefined ? 'user' : 'password'), 'nothing (the key is missing)', 'user and password together');
  }
  if (user !== undefined) nats.user = user;
  if (password !== undefined) nats.password = password;
  if (token !== undefined) nats.token = token;
  if (credsFile !== undefined) nats.credsFile = resolvePath(cx, credsFile);
  const tls = f.nested(
    'tls',
    (v, tlsAt) => {
      const t = objectAt(cx.problems, tlsAt, v, keysOf('cluster.nats.tls'));
      if (t === undefined) return undefined;
      const out: NonNullable<ClusterConfig['nats']['tls']> = {};
      for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
        const file = optionalOf(t, CLUSTER_NATS_TLS_KEYS[name]);
        if (file !== undefined) out[name] = resolvePath(cx, file);
      }
      if ((out.certFile === undefined) !== (out.keyFile === undefined)) {
        cx.problems.add(
          t.path(out.certFile === undefined ? 'certFile' : 'keyFile'),
          'nothing (the key is missing)',
          'certFile and keyFile together',
        );
      }
      return out;
    },
    undefined,
  );
  if (tls !== undefined) nats.tls = tls;
  return nats;
}

function httpConfig(cx: Context, value: unknown, at: string): HttpConfig | null {
  if (value === null) return null;
  const f = objectAt(cx.problems, at, value, keysOf('http'), { expected: 'an object { "host", "port", "auth" } (all optional), or null' });
  if (f === undefined) return null;
  const config: HttpConfig = { host: valueOf(f, HTTP_KEYS.host), port: valueOf(f, HTTP_KEYS.port) };
  const auth = f.nested('auth', (v, authAt) => httpAuthConfig(cx, v, authAt), 'none');
  if (auth !== 'none' && auth !== 'invalid') config.auth = auth;
  else if (auth === 'none' && !isLoopbackHost(config.host)) {
    cx.problems.add(
      f.path('auth'),
      `nothing, while http.host is ${JSON.stringify(config.host)} (not a loopback address: the console would be open to the network)`,
      HTTP_AUTH_EXPECTED,
    );
  }
  return config;
}

const HTTP_AUTH_EXPECTED =
  '{ "tokenFile": "console.token" } or { "user": "operator", "passwordFile": "console.password" } (or bind http.host to 127.0.0.1)';

/** `http.auth`: a token file, or a user with a password file; `{}` is no credentials at all (like leaving it out). */
function httpAuthConfig(cx: Context, value: unknown, at: string): HttpAuthConfig | 'none' | 'invalid' {
  const f = objectAt(cx.problems, at, value, keysOf('http.auth'), { expected: HTTP_AUTH_EXPECTED });
  if (f === undefined) return 'invalid';
  const [tokenFile, user, passwordFile] = [
    optionalOf(f, HTTP_AUTH_KEYS.tokenFile),
    optionalOf(f, HTTP_AUTH_KEYS.user),
    optionalOf(f, HTTP_AUTH_KEYS.passwordFile),
  ];
  const given = Object.keys(f.raw);
  if (given.length === 0) return 'none';
  if (tokenFile !== undefined && given.length === 1) return { tokenFile: resolvePath(cx, tokenFile) };
  if (user !== undefined && passwordFile !== undefined && given.length === 2) return { user, passwordFile: resolvePath(cx, passwordFile) };
  cx.problems.add(at, `the keys ${JSON.stringify(given)}`, `either tokenFile alone, or user with passwordFile: ${HTTP_AUTH_EXPECTED}`);
  return 'invalid';
}

function logConfig(cx: Context, value: unknown, at: string): LogConfig {
  const f = objectAt(cx.problems, at, value, keysOf('log')) ?? new Fields(cx.problems, at, {});
  return { level: valueOf(f, LOG_KEYS.level) };
}
