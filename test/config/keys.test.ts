import { describe, expect, it } from 'vitest';

import { documentedDefault } from '../../src/config/docs.js';
import { CONFIG_KEYS, Inherited, keysOf, REQUIRED, UNSET, type ConfigKey } from '../../src/config/keys.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const SOURCE = '/srv/bridge/config.json';
const OMIT = Symbol('omit');

/** The smallest valid objects at the places a key needs a parent, and the sink of each variant. */
const PARENTS: Record<string, Record<string, unknown>> = {
  'listeners[]': { protocol: 'dc09', transport: 'tcp', port: 12128 },
  'receiver.supervision': { intervalSeconds: 60, graceSeconds: 30 },
  'accounts.<account>.supervision': { intervalSeconds: 60, graceSeconds: 30 },
  'mapping.codes.<code>': { type: 'alarm' },
  cluster: { nats: { servers: ['nats://127.0.0.1:4222'] } },
  'cluster.nats': { servers: ['nats://127.0.0.1:4222'] },
};
const PARTNER_API = { type: 'partner-api', baseUrl: 'https://api.example.com', auth: { apiKey: 'k' } };
const SINKS: Record<NonNullable<ConfigKey['when']>, Record<string, unknown>> = {
  'file sink': { type: 'file' },
  'partner-api sink': PARTNER_API,
  'API key auth': PARTNER_API,
  'JWT auth': {
    ...PARTNER_API,
    auth: {
      tokenUrl: 'https://auth.example.com/oauth/token',
      audience: 'a',
      assertionAudience: 'b',
      clientId: 'c',
      privateKeyFile: 'key.pem',
    },
  },
};
/** Wider settings that differ from their defaults, so a key following them shows it. */
const WIDER = {
  receiver: { timestampWindow: { pastSeconds: 7, futureSeconds: 9 } },
  accounts: { '1234': { uploads: { snapshots: 3, shortMp4: true, eventMp4: true } } },
};
const NAMES: Record<string, string> = { '<account>': '1234', '<zone>': '15', '<code>': 'sia:BA' };

type Json = Record<string, unknown>;

/** A configuration holding the key's parents (and `base`), with the key left out or set to `value`. */
function configWith(key: ConfigKey, value: unknown, base: Json = {}): Json {
  const root: Json = structuredClone(base);
  if (key.when !== undefined) root.sink = structuredClone(SINKS[key.when]);
  const segments = key.key.split('.');
  let node = root;
  let at = '';
  for (const segment of segments.slice(0, -1)) {
    at = at === '' ? segment : `${at}.${segment}`;
    const fresh = structuredClone(PARENTS[at] ?? {});
    if (segment.endsWith('[]')) {
      const list = (node[segment.slice(0, -2)] ??= [fresh]) as Json[];
      node = list[0] as Json;
    } else {
      node = (node[NAMES[segment] ?? segment] ??= fresh) as Json;
    }
  }
  const name = segments.at(-1) as string;
  delete node[name];
  if (value !== OMIT) node[name] = value;
  return root;
}

/** The loaded value at a key pattern (the first listener, account 1234, zone 15, code sia:BA). */
function valueAt(config: unknown, pattern: string): unknown {
  let node = config as Json | undefined;
  for (const segment of pattern.split('.')) {
    if (segment.endsWith('[]')) node = (node?.[segment.slice(0, -2)] as Json[] | undefined)?.[0];
    else node = node?.[NAMES[segment] ?? segment] as Json | undefined;
  }
  return node;
}

const hasValue = (key: ConfigKey) => key.default !== REQUIRED && key.default !== UNSET && !(key.default instanceof Inherited);

describe('CONFIG_KEYS', () => {
  it('covers every key, each path once', () => {
    expect(CONFIG_KEYS.length).toBeGreaterThan(80);
    const paths = CONFIG_KEYS.map((k) => `${k.key} ${k.when ?? ''}`);
    expect(new Set(paths).size).toBe(paths.length);
    expect(keysOf('')).toEqual(['listeners', 'receiver', 'accounts', 'mapping', 'sink', 'outbox', 'cluster', 'http', 'log']);
    expect(keysOf('sink', 'file sink')).toEqual(['type', 'path']);
  });

  describe('a left-out key gets the documented default: the same value as when the documented default is written', () => {
    for (const key of CONFIG_KEYS.filter(hasValue)) {
      it(`${key.key}${key.when ? ` (${key.when})` : ''}: ${documentedDefault(key)}`, () => {
        const documented = documentedDefault(key);
        // A long object default is documented as "each key below at its default": write `{}` for it then.
        const written = documented.startsWith('each key') ? key.default : (JSON.parse(documented) as unknown);
        const omitted = valueAt(parseConfig(configWith(key, OMIT), SOURCE), key.key);
        expect(omitted).toBeDefined();
        expect(omitted).toEqual(valueAt(parseConfig(configWith(key, written), SOURCE), key.key));
      });
    }
  });

  it('a key documented as required is reported missing when left out', () => {
    const required = CONFIG_KEYS.filter((k) => k.default === REQUIRED);
    expect(required.length).toBeGreaterThan(10);
    for (const key of required) {
      let error: unknown;
      try {
        parseConfig(configWith(key, OMIT), SOURCE);
      } catch (e) {
        error = e;
      }
      expect(error, key.key).toBeInstanceOf(ConfigError);
      // Without apiKey the auth object is read as JWT auth, whose keys are then missing.
      const at = key.key === 'sink.auth.apiKey' ? 'sink.auth.tokenUrl' : valuePath(key.key);
      expect((error as ConfigError).problems, key.key).toContainEqual(
        expect.objectContaining({ path: at, found: 'nothing (the key is missing)' }),
      );
    }
  });

  it('a key documented as none stays unset when left out', () => {
    const unset = CONFIG_KEYS.filter((k) => k.default === UNSET);
    expect(unset.length).toBeGreaterThan(10);
    for (const key of unset) expect(valueAt(parseConfig(configWith(key, OMIT), SOURCE), key.key), key.key).toBeUndefined();
  });

  it("a key following the account's or the receiver's setting takes that value, or stays unset for the mapper to apply it", () => {
    // cluster.instance follows the machine's host name (its own test in load.test.ts).
    const following = CONFIG_KEYS.filter((k) => k.default instanceof Inherited && k.key !== 'cluster.instance');
    let applied = 0;
    for (const key of following) {
      const config = parseConfig(configWith(key, OMIT, WIDER), SOURCE);
      const value = valueAt(config, key.key);
      if (value === undefined) continue;
      const wider = key.key.includes('.zones.<zone>')
        ? key.key.replace('.zones.<zone>', '')
        : key.key.replace('accounts.<account>', 'receiver');
      expect(value, key.key).toEqual(valueAt(config, wider));
      applied++;
    }
    // The loader fills the keys of a zone's uploads (the account's) and of an account's window (the receiver's).
    expect(applied).toBe(5);
  });
});

/** The JSON path the loader names in a problem for a key pattern. */
function valuePath(pattern: string): string {
  return pattern
    .replace('listeners[]', 'listeners[0]')
    .replace(/\.<(account|zone|code)>/g, (_, name: string) => `[${JSON.stringify(NAMES[`<${name}>`])}]`);
}
