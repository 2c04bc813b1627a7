import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  accountKeyBytes,
  CONFIG_KEYS,
  ConfigError,
  defaultConfig,
  loadConfigFile,
  normalizeCodeKey,
  parseConfig,
} from '../../src/config/load.js';
import type { AccountConfig } from '../../src/config/types.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = path.join(REPO, 'config.example.json');
const SOURCE = '/srv/bridge/config.json';

function configError(json: unknown, source = 'config.json'): ConfigError {
  try {
    parseConfig(json, source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

async function loadError(file: string): Promise<ConfigError> {
  try {
    await loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** A config with one account, for the account tests. */
function withAccount(account: unknown, number = '1234'): unknown {
  return { accounts: { [number]: account } };
}

const listener = { protocol: 'dc09', transport: 'tcp', port: 12128 };

describe('defaults', () => {
  it('defaultConfig is the embedded configuration of serve', () => {
    expect(defaultConfig()).toEqual({
      source: null,
      listeners: [
        { protocol: 'dc09', transport: 'tcp', host: '0.0.0.0', port: 12128, closeAfterReplyMs: null, proxyProtocol: false },
        { protocol: 'dc09', transport: 'udp', host: '0.0.0.0', port: 12128, closeAfterReplyMs: null, proxyProtocol: false },
      ],
      receiver: {
        unknownAccounts: 'accept',
        badCrc: 'nak',
        timestampWindow: { pastSeconds: 40, futureSeconds: 20 },
        clearTimestamps: 'flag',
        maxConnections: 10000,
        maxConnectionsPerSource: null,
        idleTimeoutSeconds: 120,
        udpDatagramsPerSecondPerSource: 100,
        udpBurstPerSource: 200,
        maxFrameBytes: 4096,
        duplicateWindowSeconds: 120,
        supervision: null,
      },
      accounts: {},
      mapping: { codes: {}, forwardUnknown: false, placeholderIds: true },
      sink: { type: 'file', path: 'events.ndjson' },
      outbox: null,
      cluster: null,
      http: null,
      log: { level: 'info' },
    });
  });

  it('fills every omitted top-level key; only unknownAccounts differs from the embedded default', () => {
    const config = parseConfig({}, SOURCE);
    const embedded = defaultConfig();
    expect(config.source).toBe(SOURCE);
    expect(config.receiver).toEqual({ ...embedded.receiver, unknownAccounts: 'reject' });
    expect(config.listeners).toEqual(embedded.listeners);
    expect(config.sink).toEqual({ type: 'file', path: '/srv/bridge/events.ndjson' });
    expect([config.outbox, config.http, config.log, config.mapping, config.accounts]).toEqual([
      null,
      null,
      { level: 'info' },
      { codes: {}, forwardUnknown: false },
      {},
    ]);
  });

  it('fills omitted keys inside listeners, receiver, accounts and sinks', () => {
    const config = parseConfig(
      {
        listeners: [listener],
        receiver: { badCrc: 'silent', timestampWindow: { pastSeconds: 5 } },
        accounts: { '1234': {} },
        sink: { type: 'partner-api', baseUrl: 'https://api.chekt.com', auth: { apiKey: 'k' } },
        outbox: {},
        http: {},
      },
      SOURCE,
    );
    expect(config.listeners).toEqual([{ ...listener, host: '0.0.0.0', closeAfterReplyMs: null, proxyProtocol: false }]);
    expect(config.receiver.badCrc).toBe('silent');
    expect(config.receiver.unknownAccounts).toBe('reject');
    expect(config.receiver.timestampWindow).toEqual({ pastSeconds: 5, futureSeconds: 20 });
    expect(config.accounts['1234']).toEqual({
      keyEncoding: 'hex',
      zones: {},
      users: {},
      signalToMonitoringCenter: { alarm: true, trouble: false, arming: false },
      uploads: { snapshots: 0, shortMp4: false, eventMp4: false },
    });
    expect(config.sink).toEqual({
      type: 'partner-api',
      baseUrl: 'https://api.chekt.com',
      auth: { apiKey: 'k' },
      timeoutSeconds: 10,
      connections: 8,
      maxRetryAgeSeconds: 259200,
      maxQueuedEvents: 100000,
    });
    expect(config.outbox).toEqual({
      dir: '/srv/bridge/data/outbox',
      ackAfter: 'persisted',
      maxBytes: 1073741824,
      deliveredTimeoutSeconds: 10,
      maxAgeHours: 72,
    });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('takes partial nested blocks key by key (zone uploads from the account, window from the receiver)', () => {
    const config = parseConfig(
      {
        receiver: { timestampWindow: { pastSeconds: 100, futureSeconds: 50 }, supervision: { intervalSeconds: 90, graceSeconds: 30 } },
        accounts: {
          '1234': {
            uploads: { snapshots: 2, eventMp4: true },
            signalToMonitoringCenter: { arming: true },
            zones: { '15': { uploads: { shortMp4: true } }, '16': { name: 'Hall' } },
            timestampWindow: { futureSeconds: 5 },
          },
        },
        sink: {
          type: 'partner-api',
          baseUrl: 'http://127.0.0.1:8080',
          auth: {
            tokenUrl: 'http://127.0.0.1:8080/oauth/token',
            audience: 'a',
            assertionAudience: 'b',
            clientId: 'c',
            privateKeyFile: 'k.pem',
          },
        },
      },
      SOURCE,
    );
    const account = config.accounts['1234'] as AccountConfig;
    expect(account.uploads).toEqual({ snapshots: 2, shortMp4: false, eventMp4: true });
    expect(account.signalToMonitoringCenter).toEqual({ alarm: true, trouble: false, arming: true });
    expect(account.zones['15']).toEqual({ uploads: { snapshots: 2, shortMp4: true, eventMp4: true } });
    expect(account.zones['16']).toEqual({ name: 'Hall' });
    expect(account.timestampWindow).toEqual({ pastSeconds: 100, futureSeconds: 5 });
    expect(config.receiver.supervision).toEqual({ intervalSeconds: 90, graceSeconds: 30 });
    expect(config.sink.type === 'partner-api' && config.sink.auth).toEqual({
      tokenUrl: 'http://127.0.0.1:8080/oauth/token',
      audience: 'a',
      assertionAudience: 'b',
      clientId: 'c',
      privateKeyFile: '/srv/bridge/k.pem',
      algorithm: 'RS256',
    });
  });

  it('outbox.keyFile: absent unless given (the outbox then keeps media.key in its directory); a non-text value names the key', () => {
    expect(parseConfig({ outbox: {} }, SOURCE).outbox).not.toHaveProperty('keyFile');
    expect(() => parseConfig({ outbox: { keyFile: 7 } }, SOURCE)).toThrow(/outbox\.keyFile/);
  });

  it('keeps null for outbox and http', () => {
    const config = parseConfig({ outbox: null, http: null, receiver: { supervision: null } }, SOURCE);
    expect([config.outbox, config.http, config.receiver.supervision]).toEqual([null, null, null]);
  });

  it('takes an explicit null for a key whose default is not null (the UDP rate limit off)', () => {
    const config = parseConfig({ receiver: { udpDatagramsPerSecondPerSource: null, maxConnectionsPerSource: 50 } }, SOURCE);
    expect([config.receiver.udpDatagramsPerSecondPerSource, config.receiver.maxConnectionsPerSource]).toEqual([null, 50]);
  });
});

describe('config.example.json', () => {
  it('loads', async () => {
    const config = await loadConfigFile(EXAMPLE);
    expect(config.source).toBe(EXAMPLE);
    expect(config.listeners.map((l) => l.transport)).toEqual(['tcp', 'udp', 'tcp']);
    expect(Object.keys(config.accounts)).toEqual(['1234', 'SG1', 'A0F7']);
    expect(accountKeyBytes(config.accounts['1234'] as AccountConfig)?.length).toBe(16);
    expect(config.accounts['1234']?.zones['15']?.cameraId).toBe('2fe519b4-2438-4aa1-b051-87cf22bb');
    expect(config.mapping.codes['sia:RP']).toBe('ignore');
    expect(config.sink.type === 'partner-api' && 'privateKeyFile' in config.sink.auth && config.sink.auth.privateKeyFile).toBe(
      path.join(REPO, 'partner.key'),
    );
    expect(config.outbox?.dir).toBe('/var/lib/alarm-bridge/outbox');
    expect(config.outbox?.keyFile).toBe('/var/lib/alarm-bridge/outbox-media.key');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('uses every documented key (except the other sink and auth variants)', async () => {
    const json = JSON.parse(await readFile(EXAMPLE, 'utf8')) as unknown;
    const used = new Set<string>();
    const maps: Record<string, string> = {
      accounts: '<account>',
      'accounts.<account>.zones': '<zone>',
      'accounts.<account>.users': '<user>',
      'mapping.codes': '<code>',
    };
    const walk = (value: unknown, at: string): void => {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, `${at}[]`);
      } else if (typeof value === 'object' && value !== null) {
        for (const [key, child] of Object.entries(value)) {
          const name = maps[at] ?? key;
          const childAt = at === '' ? name : `${at}.${name}`;
          if (maps[at] === undefined) used.add(childAt);
          walk(child, childAt);
        }
      }
    };
    walk(json, '');
    // The other variants of sink and auth cannot stand next to the ones used; receiver.supervision is null there.
    // http.auth names secret files the example cannot ship (its console is on 127.0.0.1, where auth is optional).
    const documented = CONFIG_KEYS.filter((k) => k.when !== 'file sink' && k.when !== 'API key auth')
      .map((k) => k.key)
      .filter((k) => !k.startsWith('receiver.supervision.') && !k.startsWith('http.auth') && !k.startsWith('cluster'));
    expect([...used].sort()).toEqual([...documented].sort());
  });
});

describe('error messages name file, path, what was found and what was expected', () => {
  it('a port that is a string', () => {
    const error = configError({ listeners: [listener, { ...listener, transport: 'udp', port: 'abc' }] });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe('config.json: listeners[1].port: found "abc" (string), expected an integer 0-65535');
    expect(error.problems).toEqual([{ path: 'listeners[1].port', found: '"abc" (string)', expected: 'an integer 0-65535' }]);
  });

  it('numbers out of range and non-integers', () => {
    expect(configError({ listeners: [{ ...listener, port: 70000 }] }).message).toBe(
      'config.json: listeners[0].port: found 70000 (number), expected an integer 0-65535',
    );
    expect(configError({ receiver: { maxConnections: 1.5 } }).message).toBe(
      'config.json: receiver.maxConnections: found 1.5 (number), expected an integer >= 1',
    );
    expect(configError({ receiver: { maxConnectionsPerSource: 0 } }).message).toBe(
      'config.json: receiver.maxConnectionsPerSource: found 0 (number), expected an integer >= 1, or null',
    );
    expect(configError({ receiver: { udpDatagramsPerSecondPerSource: 0 } }).message).toBe(
      'config.json: receiver.udpDatagramsPerSecondPerSource: found 0 (number), expected a number > 0, or null',
    );
    expect(configError({ receiver: { udpBurstPerSource: 0.5 } }).message).toBe(
      'config.json: receiver.udpBurstPerSource: found 0.5 (number), expected an integer >= 1',
    );
    expect(configError({ receiver: { timestampWindow: { pastSeconds: -1 } } }).message).toBe(
      'config.json: receiver.timestampWindow.pastSeconds: found -1 (number), expected a number >= 0',
    );
    expect(configError(withAccount({ uploads: { snapshots: 11 } })).message).toBe(
      'config.json: accounts["1234"].uploads.snapshots: found 11 (number), expected an integer 0-10',
    );
  });

  it('a missing required key', () => {
    expect(configError({ listeners: [{ protocol: 'dc09', port: 1 }] }).message).toBe(
      'config.json: listeners[0].transport: found nothing (the key is missing), expected "tcp" or "udp"',
    );
  });

  it('a value of the wrong kind', () => {
    expect(configError({ receiver: [] }).message).toMatch(
      /^config\.json: receiver: found an array of 0 items, expected an object with the keys unknownAccounts, badCrc, /,
    );
    expect(configError({ listeners: {} }).message).toMatch(
      /^config\.json: listeners: found an object, expected an array of listener objects/,
    );
    expect(configError([1, 2]).message).toBe(
      'config.json: (top level): found an array of 2 items, expected a JSON object with the configuration keys',
    );
    expect(configError({ mapping: { forwardUnknown: 'yes' } }).message).toBe(
      'config.json: mapping.forwardUnknown: found "yes" (string), expected true or false',
    );
    expect(configError({ outbox: true }).message).toMatch(
      /^config\.json: outbox: found true \(boolean\), expected an object with the keys dir, .*, or null$/,
    );
  });

  it('enumerations and URLs', () => {
    expect(configError({ log: { level: 'verbose' } }).message).toBe(
      'config.json: log.level: found "verbose" (string), expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent"',
    );
    const sink = { type: 'partner-api', baseUrl: 'ftp://api.chekt.com', auth: { apiKey: 'k' } };
    expect(configError({ sink }).message).toBe(
      'config.json: sink.baseUrl: found "ftp://api.chekt.com" (string), expected an http(s) URL such as "https://api.chekt.com"',
    );
    expect(configError({ sink: { type: 'http' } }).message).toBe(
      'config.json: sink.type: found "http" (string), expected "file" or "partner-api"',
    );
    const jwt = {
      tokenUrl: 'https://a/oauth/token',
      audience: 'a',
      assertionAudience: 'b',
      clientId: 'c',
      privateKeyFile: 'k',
      algorithm: 'HS256',
    };
    expect(configError({ sink: { ...sink, baseUrl: 'https://x', auth: jwt } }).message).toBe(
      'config.json: sink.auth.algorithm: found "HS256" (string), expected one of "RS256", "RS384", "PS256"',
    );
  });

  it('collects every problem, one per line', () => {
    const error = configError(
      {
        listeners: [{ protocol: 'sia', transport: 'tcp', port: -1 }],
        receiver: { badCrc: 'ignore' },
        log: { level: 3 },
      },
      'conf/bridge.json',
    );
    expect(error.problems.map((p) => p.path)).toEqual(['listeners[0].protocol', 'listeners[0].port', 'receiver.badCrc', 'log.level']);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('conf/bridge.json: 4 problems in the configuration:');
    expect(lines.slice(1)).toEqual([
      'conf/bridge.json: listeners[0].protocol: found "sia" (string), expected one of "dc09", "surgard", "galaxy", "lupusec-cid"',
      'conf/bridge.json: listeners[0].port: found -1 (number), expected an integer 0-65535',
      'conf/bridge.json: receiver.badCrc: found "ignore" (string), expected "nak" or "silent"',
      'conf/bridge.json: log.level: found 3 (number), expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent"',
    ]);
    expect(error.file).toBe('conf/bridge.json');
  });

  it('never shows a key, password or API key', () => {
    const secretKey = 'S3CRETS3CRETS3CRETS3CRETS3CRET';
    const error = configError({
      accounts: { '1234': { key: secretKey, snapshotPassword: '', snapshotUrl: 'x' } },
      sink: { type: 'partner-api', baseUrl: 'https://x', auth: { apiKey: 42 } },
    });
    expect(error.message).not.toContain(secretKey);
    expect(error.message).toContain(
      'config.json: accounts["1234"].key: found a key of 30 characters, not all hex digits (not shown), expected 32, 48 or 64 hex digits',
    );
    expect(error.message).toContain(
      'accounts["1234"].snapshotPassword: found a string of 0 characters (not shown), expected a non-empty string',
    );
    expect(error.message).toContain('sink.auth.apiKey: found 42 (number), expected the API key');
  });
});

describe('unknown keys', () => {
  it('are rejected with the allowed keys and a suggestion', () => {
    const error = configError({ receiver: { unknownAcounts: 'accept' } });
    expect(error.message).toBe(
      'config.json: receiver.unknownAcounts: found an unknown key (did you mean "unknownAccounts"?), expected one of the keys allowed here: ' +
        'unknownAccounts, badCrc, timestampWindow, clearTimestamps, maxConnections, maxConnectionsPerSource, idleTimeoutSeconds, udpDatagramsPerSecondPerSource, udpBurstPerSource, maxFrameBytes, duplicateWindowSeconds, supervision',
    );
  });

  it('are rejected at every level', () => {
    const error = configError({
      listener: [],
      listeners: [{ ...listener, closeAfterReply: 100 }],
      accounts: { '1234': { zones: { '1': { camera: 'x' } }, uploads: { snapshot: 1 } } },
      mapping: { codes: { 'sia:BA': { type: 'alarm', sigal: true } } },
      sink: { type: 'file', path: 'x', baseUrl: 'https://x' },
      'my comment': 1,
    });
    expect(error.problems.map((p) => [p.path, p.found])).toEqual([
      ['listener', 'an unknown key (did you mean "listeners"?)'],
      ['["my comment"]', 'an unknown key'],
      ['listeners[0].closeAfterReply', 'an unknown key (did you mean "closeAfterReplyMs"?)'],
      ['accounts["1234"].uploads.snapshot', 'an unknown key (did you mean "snapshots"?)'],
      ['accounts["1234"].zones["1"].camera', 'an unknown key (did you mean "cameraId"?)'],
      ['mapping.codes["sia:BA"].sigal', 'an unknown key (did you mean "signal"?)'],
      ['sink.baseUrl', 'an unknown key'],
    ]);
    expect(error.message).toContain(
      'config.json: ["my comment"]: found an unknown key, expected one of the keys allowed here: listeners, receiver,',
    );
    expect(error.message).toContain('config.json: sink.baseUrl: found an unknown key, expected one of the keys allowed here: type, path');
  });

  it('apiKey excludes the JWT fields', () => {
    const error = configError({ sink: { type: 'partner-api', baseUrl: 'https://x', auth: { apiKey: 'k', clientId: 'c' } } });
    expect(error.message).toBe(
      'config.json: sink.auth.clientId: found an unknown key, expected no other key next to apiKey (use either apiKey, or the JWT assertion fields without apiKey)',
    );
  });
});

describe('accounts', () => {
  it('are stored upper-cased', () => {
    const config = parseConfig({ accounts: { abc1: {}, '0042': {}, Ff: {} } }, SOURCE);
    expect(Object.keys(config.accounts).sort()).toEqual(['0042', 'ABC1', 'FF']);
  });

  it('may not repeat after upper-casing', () => {
    expect(configError({ accounts: { abc1: {}, ABC1: {} } }).message).toBe(
      'config.json: accounts["ABC1"]: found account ABC1, the same account as accounts["abc1"], expected each account number once (account numbers match case-insensitively)',
    );
  });

  it('must be 1-16 printable characters without spaces or brackets (a Lupusec subscriber such as my-house is one)', () => {
    const error = configError({
      accounts: { '12 4': {}, '': {}, '12345678901234567': {}, '1234567890123456': {}, 'my-house': {}, '[12]': {} },
    });
    expect(error.problems.map((p) => p.path)).toEqual([
      'accounts["12 4"]',
      'accounts[""]',
      'accounts["12345678901234567"]',
      'accounts["[12]"]',
    ]);
    expect(error.problems[0]).toEqual({
      path: 'accounts["12 4"]',
      found: 'the account number "12 4"',
      expected: 'an account number of 1-16 printable characters without spaces or brackets',
    });
  });

  it('zones and users are keyed by decimal numbers that match numerically', () => {
    const error = configError(withAccount({ zones: { '015': {}, '15': {}, A1: {} }, users: { '3': 'Alice', x: 'Bob', '4': '' } }));
    expect(error.problems).toEqual([
      {
        path: 'accounts["1234"].zones["015"]',
        found: 'zone 15, the same zone as accounts["1234"].zones["15"]',
        expected: 'each zone once (zone numbers match numerically)',
      },
      {
        path: 'accounts["1234"].zones["A1"]',
        found: 'the zone number "A1"',
        expected: 'a zone number written in decimal digits (at most 9), such as "15"',
      },
      {
        path: 'accounts["1234"].users["x"]',
        found: 'the user number "x"',
        expected: 'a user number written in decimal digits (at most 9), such as "15"',
      },
      { path: 'accounts["1234"].users["4"]', found: '"" (string)', expected: 'a user name (a non-empty string)' },
    ]);
  });

  it('account supervision needs both keys', () => {
    expect(configError(withAccount({ supervision: { intervalSeconds: 90 } })).message).toBe(
      'config.json: accounts["1234"].supervision.graceSeconds: found nothing (the key is missing), expected a number >= 0',
    );
  });

  it('snapshot URLs must be http(s)', () => {
    expect(configError(withAccount({ zones: { '1': { snapshotUrl: 'rtsp://cam/1' } } })).problems[0]?.path).toBe(
      'accounts["1234"].zones["1"].snapshotUrl',
    );
  });
});

describe('account keys', () => {
  const hex = (n: number) => '0123456789abcdef'.repeat(5).slice(0, n);

  it('accepts 32, 48 or 64 hex digits', () => {
    for (const n of [32, 48, 64]) {
      const account = parseConfig(withAccount({ key: hex(n).toUpperCase() }), SOURCE).accounts['1234'] as AccountConfig;
      expect(accountKeyBytes(account)).toEqual(Buffer.from(hex(n), 'hex'));
    }
  });

  it('rejects other hex lengths and non-hex characters', () => {
    for (const key of [hex(31), hex(40), hex(66), `${hex(31)}g`, '']) {
      const problem = configError(withAccount({ key })).problems[0];
      expect(problem?.path).toBe('accounts["1234"].key');
      expect(problem?.expected.startsWith('32, 48 or 64 hex digits (an AES-128, -192 or -256 key; keyEncoding "hex")')).toBe(true);
    }
    // 32 characters that are not all hex digits would be a valid ASCII key.
    expect(configError(withAccount({ key: `${hex(31)}g` })).problems[0]?.expected).toContain('or set keyEncoding to "ascii"');
    expect(configError(withAccount({ key: 1234 })).problems[0]?.found).toBe('1234 (number)');
  });

  it('suggests keyEncoding "ascii" for a 16-character key', () => {
    expect(configError(withAccount({ key: 'abcdefghijklmnop' })).problems[0]?.expected).toBe(
      '32, 48 or 64 hex digits (an AES-128, -192 or -256 key; keyEncoding "hex"), or set keyEncoding to "ascii" for a key written as 16 characters',
    );
  });

  it('accepts 16, 24 or 32 ASCII characters with keyEncoding "ascii"', () => {
    for (const n of [16, 24, 32]) {
      const key = 'Key-1234!abcdefghijklmnopqrstuvwxyz'.slice(0, n);
      const account = parseConfig(withAccount({ key, keyEncoding: 'ascii' }), SOURCE).accounts['1234'] as AccountConfig;
      expect(accountKeyBytes(account)).toEqual(Buffer.from(key, 'ascii'));
    }
  });

  it('rejects other ASCII lengths and non-ASCII characters', () => {
    for (const key of ['a'.repeat(15), 'a'.repeat(20), 'a'.repeat(33), `${'a'.repeat(15)}é`, `${'a'.repeat(15)}\n`]) {
      const problem = configError(withAccount({ key, keyEncoding: 'ascii' })).problems[0];
      expect(problem?.expected).toBe('16, 24 or 32 printable ASCII characters (an AES-128, -192 or -256 key; keyEncoding "ascii")');
    }
  });

  it('an account without a key has no key bytes', () => {
    expect(accountKeyBytes(parseConfig(withAccount({}), SOURCE).accounts['1234'] as AccountConfig)).toBeNull();
  });

  it('an invalid keyEncoding is reported once', () => {
    expect(configError(withAccount({ key: hex(32), keyEncoding: 'base64' })).message).toBe(
      'config.json: accounts["1234"].keyEncoding: found "base64" (string), expected "hex" or "ascii"',
    );
  });
});

describe('mapping codes', () => {
  it('accept the key grammar sia:XX | cid:EEE | cid:Q:EEE', () => {
    const codes = { 'sia:PE': 'ignore', 'cid:137': 'ignore', 'cid:1:401': 'ignore', 'cid:3:40a': 'ignore', 'cid:6:E30': 'ignore' };
    const config = parseConfig({ mapping: { codes } }, SOURCE);
    expect(Object.keys(config.mapping.codes)).toEqual(['sia:PE', 'cid:137', 'cid:1:401', 'cid:3:40A', 'cid:6:E30']);
  });

  it('reject keys outside the grammar', () => {
    const bad = ['sia:pe', 'sia:P', 'sia:PEX', 'SIA:PE', 'cid:13', 'cid:1370', 'cid:2:401', 'cid:1401', 'cid:E:401', 'cid:13g', 'PE', ''];
    const codes = Object.fromEntries(bad.map((k) => [k, 'ignore']));
    const error = configError({ mapping: { codes } });
    expect(error.problems.map((p) => p.path)).toEqual(bad.map((k) => `mapping.codes[${JSON.stringify(k)}]`));
    expect(error.problems[0]?.found).toBe('the code key "sia:pe"');
    expect(error.problems[0]?.expected).toContain('"sia:XX" (a SIA code of two upper-case letters');
    expect(error.problems[0]?.expected).toContain('"cid:Q:EEE" (Q the qualifier 1, 3 or 6');
    expect(bad.map(normalizeCodeKey).every((k) => k === undefined)).toBe(true);
  });

  it('reject codes that are the same after upper-casing hex digits', () => {
    expect(configError({ mapping: { codes: { 'cid:13a': 'ignore', 'cid:13A': 'ignore' } } }).problems[0]?.found).toBe(
      'code cid:13A, the same code as mapping.codes["cid:13a"]',
    );
  });

  it('values are "ignore" or { type, status?, signal? }', () => {
    const config = parseConfig(
      { mapping: { codes: { 'sia:BA': { type: 'alarm', status: 'active', signal: false }, 'sia:XY': { type: 'panic-custom' } } } },
      SOURCE,
    );
    expect(config.mapping.codes).toEqual({
      'sia:BA': { type: 'alarm', status: 'active', signal: false },
      'sia:XY': { type: 'panic-custom' },
    });

    const error = configError({
      mapping: { codes: { 'sia:BA': 'alarm', 'sia:BB': { type: '' }, 'sia:BC': { status: 'open' }, 'sia:BD': 5 } },
    });
    expect(error.problems).toEqual([
      {
        path: 'mapping.codes["sia:BA"]',
        found: '"alarm" (string)',
        expected: '"ignore" or an object such as { "type": "alarm", "status": "active" } (a type is written as { "type": "alarm" })',
      },
      {
        path: 'mapping.codes["sia:BB"].type',
        found: '"" (string)',
        expected: 'an event type: "alarm", "trouble", "arming" or another non-empty string',
      },
      {
        path: 'mapping.codes["sia:BC"].type',
        found: 'nothing (the key is missing)',
        expected: 'an event type: "alarm", "trouble", "arming" or another non-empty string',
      },
      { path: 'mapping.codes["sia:BC"].status', found: '"open" (string)', expected: '"active" or "inactive"' },
      {
        path: 'mapping.codes["sia:BD"]',
        found: '5 (number)',
        expected: '"ignore" or an object such as { "type": "alarm", "status": "active" }',
      },
    ]);
  });
});

describe('listeners', () => {
  it('surgard runs over TCP only', () => {
    expect(configError({ listeners: [{ protocol: 'surgard', transport: 'udp', port: 1025 }] }).message).toBe(
      'config.json: listeners[0].transport: found "udp" (string), expected "tcp" (the surgard protocol runs over TCP only)',
    );
    expect(parseConfig({ listeners: [{ protocol: 'surgard', transport: 'tcp', port: 1025 }] }, SOURCE).listeners[0]?.protocol).toBe(
      'surgard',
    );
  });

  it.each(['galaxy', 'lupusec-cid'])('%s runs over TCP only', (protocol) => {
    expect(configError({ listeners: [{ protocol, transport: 'udp', port: 1025 }] }).message).toBe(
      `config.json: listeners[0].transport: found "udp" (string), expected "tcp" (the ${protocol} protocol runs over TCP only)`,
    );
    expect(parseConfig({ listeners: [{ protocol, transport: 'tcp', port: 1025 }] }, SOURCE).listeners[0]?.protocol).toBe(protocol);
  });

  it('closeAfterReplyMs is for TCP', () => {
    expect(parseConfig({ listeners: [{ ...listener, closeAfterReplyMs: 500 }] }, SOURCE).listeners[0]?.closeAfterReplyMs).toBe(500);
    expect(configError({ listeners: [{ ...listener, transport: 'udp', closeAfterReplyMs: 500 }] }).problems[0]?.path).toBe(
      'listeners[0].closeAfterReplyMs',
    );
  });

  it.each(['dc09', 'surgard', 'galaxy', 'lupusec-cid'])('proxyProtocol is allowed on a TCP %s listener, off by default', (protocol) => {
    const tcp = { protocol, transport: 'tcp', port: 1025 };
    expect(parseConfig({ listeners: [{ ...tcp, proxyProtocol: true }] }, SOURCE).listeners[0]?.proxyProtocol).toBe(true);
    expect(parseConfig({ listeners: [{ ...tcp, proxyProtocol: false }] }, SOURCE).listeners[0]?.proxyProtocol).toBe(false);
    expect(parseConfig({ listeners: [tcp] }, SOURCE).listeners[0]?.proxyProtocol).toBe(false);
  });

  it('proxyProtocol on a UDP listener names the key; a non-boolean is refused', () => {
    expect(configError({ listeners: [{ ...listener, transport: 'udp', proxyProtocol: true }] }).message).toBe(
      'config.json: listeners[0].proxyProtocol: found true (boolean), expected false or no key on a UDP listener (PROXY protocol headers apply to TCP only)',
    );
    expect(parseConfig({ listeners: [{ ...listener, transport: 'udp', proxyProtocol: false }] }, SOURCE).listeners).toHaveLength(1);
    expect(configError({ listeners: [{ ...listener, proxyProtocol: 'yes' }] }).problems[0]?.path).toBe('listeners[0].proxyProtocol');
  });

  it('a socket is bound once, except port 0', () => {
    const zero = { ...listener, port: 0 };
    expect(parseConfig({ listeners: [zero, zero] }, SOURCE).listeners).toHaveLength(2);
    expect(parseConfig({ listeners: [listener, { ...listener, transport: 'udp' }] }, SOURCE).listeners).toHaveLength(2);
    expect(configError({ listeners: [listener, listener] }).message).toBe(
      'config.json: listeners[1]: found a second TCP listener on 0.0.0.0:12128 (listeners[0] binds it), expected each transport, host and port bound once',
    );
  });
});

describe('relative paths', () => {
  it('are resolved against the config file directory', () => {
    const config = parseConfig(
      {
        sink: { type: 'file', path: 'out/events.ndjson' },
        outbox: { dir: '../spool' },
      },
      SOURCE,
    );
    expect(config.sink).toEqual({ type: 'file', path: '/srv/bridge/out/events.ndjson' });
    expect(config.outbox?.dir).toBe('/srv/spool');
  });

  it('absolute paths stay as they are', () => {
    const config = parseConfig({ sink: { type: 'file', path: '/var/log/events.ndjson' }, outbox: { dir: '/var/spool/ab' } }, SOURCE);
    expect(config.sink.type === 'file' && config.sink.path).toBe('/var/log/events.ndjson');
    expect(config.outbox?.dir).toBe('/var/spool/ab');
  });

  it('a relative config path is taken from the working directory', () => {
    const config = parseConfig({ sink: { type: 'file', path: 'events.ndjson' } }, 'conf/bridge.json');
    expect(config.source).toBe(path.resolve('conf/bridge.json'));
    expect(config.sink.type === 'file' && config.sink.path).toBe(path.resolve('conf/events.ndjson'));
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alarm-bridge-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, content: string): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  }

  it('loads a file and resolves paths against its directory', async () => {
    const file = await write(
      'ok.json',
      JSON.stringify({ sink: { type: 'file', path: 'events.ndjson' }, outbox: {}, accounts: { ab12: {} } }),
    );
    const config = await loadConfigFile(file);
    expect(config.source).toBe(file);
    expect(config.sink).toEqual({ type: 'file', path: path.join(dir, 'events.ndjson') });
    expect(config.outbox?.dir).toBe(path.join(dir, 'data/outbox'));
    expect(Object.keys(config.accounts)).toEqual(['AB12']);
  });

  it('names a missing file', async () => {
    const file = path.join(dir, 'nope.json');
    const error = await loadError(file);
    expect(error.message).toBe(`${file}: cannot read the configuration file: no such file (looked for ${file})`);
    expect(error.file).toBe(file);
  });

  it('names a directory given as the file', async () => {
    const sub = path.join(dir, 'sub');
    await mkdir(sub);
    expect((await loadError(sub)).message).toBe(`${sub}: cannot read the configuration file: ${sub} is a directory, expected a JSON file`);
  });

  it('names the file, line and column of a JSON syntax error', async () => {
    const file = await write('syntax.json', '{\n  "log": { "level": "info" },\n}\n');
    expect((await loadError(file)).message).toBe(
      `${file}: invalid JSON at line 3, column 1: expected a property name in double quotes, found '}' (JSON allows no comma after the last property)`,
    );
    const empty = await write('empty.json', '  \n');
    expect((await loadError(empty)).message).toMatch(/: invalid JSON at line 2, column 1: the file is empty/);
  });

  it('reports a key given twice', async () => {
    const file = await write('dup.json', '{\n  "accounts": {\n    "1234": {},\n    "1234": { "key": "x" }\n  }\n}\n');
    const error = await loadError(file);
    expect(error.message.split('\n')[1]).toBe(
      `${file}: accounts["1234"]: found the key "1234" a second time (line 4, column 5), expected each key once per object (JSON would keep only the last value)`,
    );
  });

  it('reports validation problems with the file name', async () => {
    const file = await write('bad.json', JSON.stringify({ listeners: [{ protocol: 'dc09', transport: 'tcp', port: 'abc' }] }));
    expect((await loadError(file)).message).toBe(`${file}: listeners[0].port: found "abc" (string), expected an integer 0-65535`);
  });
});

describe('http.auth', () => {
  it('is required when http.host is not a loopback address, naming the key and the two forms', () => {
    for (const host of ['0.0.0.0', '192.168.1.5', '::', 'bridge.example.com']) {
      expect(configError({ http: { host } }).message).toBe(
        `config.json: http.auth: found nothing, while http.host is ${JSON.stringify(host)} (not a loopback address: the console would be open to the network), expected { "tokenFile": "console.token" } or { "user": "operator", "passwordFile": "console.password" } (or bind http.host to 127.0.0.1)`,
      );
    }
  });

  it('is optional on loopback (127.0.0.0/8, ::1, localhost)', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost'])
      expect(parseConfig({ http: { host } }, SOURCE).http).toEqual({ host, port: 9464 });
  });

  it('takes a token file or a user with a password file, paths relative to the config file', () => {
    expect(parseConfig({ http: { host: '0.0.0.0', auth: { tokenFile: 'console.token' } } }, SOURCE).http?.auth).toEqual({
      tokenFile: '/srv/bridge/console.token',
    });
    expect(parseConfig({ http: { auth: { user: 'operator', passwordFile: '/etc/alarm-bridge/pw' } } }, SOURCE).http?.auth).toEqual({
      user: 'operator',
      passwordFile: '/etc/alarm-bridge/pw',
    });
  });

  it('refuses a mix of the two forms, half of one, or an unknown key', () => {
    const mixed = configError({ http: { auth: { tokenFile: 't', user: 'u' } } }).message;
    expect(mixed).toMatch(
      /^config\.json: http\.auth: found the keys \["tokenFile","user"\], expected either tokenFile alone, or user with passwordFile/,
    );
    expect(configError({ http: { auth: { user: 'u' } } }).message).toMatch(
      /^config\.json: http\.auth: found the keys \["user"\], expected either tokenFile alone/,
    );
    expect(configError({ http: { auth: { token: 'secret' } } }).message).toMatch(
      /http\.auth\.token: found an unknown key, expected one of the keys allowed here: tokenFile, user, passwordFile/,
    );
    expect(configError({ http: { host: '0.0.0.0', auth: null } }).message).toMatch(
      /^config\.json: http\.auth: found null, expected \{ "tokenFile"/,
    );
  });
});

describe('cluster (docs/cluster.md §2)', () => {
  const NATS = { servers: ['nats://127.0.0.1:4222'] };
  const CLUSTER_EXAMPLE = path.join(REPO, 'config.cluster.example.json');

  it('config.cluster.example.json loads and shows every cluster key but the other credentials (token, credsFile)', async () => {
    const config = await loadConfigFile(CLUSTER_EXAMPLE);
    expect(config.outbox).toBeNull();
    expect(config.cluster).toMatchObject({ stream: 'ALARM_EVENTS', replicas: 3, instance: 'bridge-a', publishTimeoutSeconds: 5 });
    expect(config.cluster?.nats.tls?.caFile).toBe(path.join(REPO, 'nats-ca.pem'));
    const json = JSON.parse(await readFile(CLUSTER_EXAMPLE, 'utf8')) as { cluster: Record<string, unknown> };
    const used: string[] = [];
    const walk = (value: unknown, at: string): void => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
      for (const [key, child] of Object.entries(value)) {
        used.push(`${at}.${key}`);
        walk(child, `${at}.${key}`);
      }
    };
    walk(json.cluster, 'cluster');
    const documented = CONFIG_KEYS.map((k) => k.key).filter(
      (k) => k.startsWith('cluster.') && k !== 'cluster.nats.token' && k !== 'cluster.nats.credsFile',
    );
    expect(used.sort()).toEqual(documented.sort());
  });

  it('defaults: stream ALARM_EVENTS, 3 replicas, 5 s publish timeout, the host name as instance', () => {
    const config = parseConfig({ cluster: { nats: NATS } }, SOURCE);
    expect(config.cluster).toEqual({
      nats: NATS,
      stream: 'ALARM_EVENTS',
      replicas: 3,
      instance: hostname(),
      publishTimeoutSeconds: 5,
      maxAgeHours: 72,
    });
  });

  it('cluster and outbox together: one problem naming both', () => {
    const error = configError({ cluster: { nats: NATS }, outbox: {} });
    expect(error.problems).toContainEqual(expect.objectContaining({ path: 'cluster', found: 'both "cluster" and "outbox"' }));
    expect(error.message).toMatch(/outbox/);
  });

  it('names the key of each mistake: servers missing or not NATS URLs, user without password, certFile without keyFile', () => {
    expect(configError({ cluster: {} }).problems).toContainEqual(expect.objectContaining({ path: 'cluster.nats' }));
    expect(configError({ cluster: { nats: { servers: ['http://x:1'] } } }).problems).toContainEqual(
      expect.objectContaining({ path: 'cluster.nats.servers' }),
    );
    expect(configError({ cluster: { nats: { ...NATS, user: 'u' } } }).problems).toContainEqual(
      expect.objectContaining({ path: 'cluster.nats.password' }),
    );
    expect(configError({ cluster: { nats: { ...NATS, tls: { certFile: 'c.pem' } } } }).problems).toContainEqual(
      expect.objectContaining({ path: 'cluster.nats.tls.keyFile' }),
    );
    expect(configError({ cluster: { nats: NATS, replicas: 0 } }).problems).toContainEqual(
      expect.objectContaining({ path: 'cluster.replicas' }),
    );
  });

  it('never repeats the NATS password or token in a problem', () => {
    const error = configError({ cluster: { nats: { servers: 'nats://x:1', password: 's3cret-pw', token: 7 } } });
    expect(error.message).not.toContain('s3cret-pw');
  });
});
