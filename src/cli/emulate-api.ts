/**
 * `alarm-bridge emulate-api`: runs the local Partner Event API emulator (src/emulator/server.ts) until SIGINT or
 * SIGTERM. Prints one JSON line describing it; when it generated its own key pair, the private key goes to a file
 * (mode 0600) whose path is printed — the key itself never is.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  DEFAULT_AUDIENCE,
  DEFAULT_CLIENT_ID,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  EVENTS_PATH,
  startEmulator,
  TOKEN_PATH,
  type Emulator,
  type EmulatorOptions,
} from '../emulator/server.js';
import { UsageError } from './frame-input.js';

export const DEFAULT_PRIVATE_KEY_FILE = './emulator-private.pem';

export interface EmulateApiArgs {
  port: number;
  host: string;
  publicKey?: string;
  clientId: string;
  audience: string;
  assertionAudience?: string;
  apiKey?: string;
  tokenLifetime: number;
  latencyMs: number;
  failureRate: number;
  /** Comma-separated statuses answered to the next event POSTs, e.g. `503,503,429`, then normal behaviour. */
  statusScript?: string;
  disarmedLocation?: string[];
  writePrivateKey: string;
  quiet: boolean;
}

/** What the command prints on stdout (one JSON line). */
export interface EmulatorAnnouncement {
  url: string;
  tokenUrl: string;
  eventsUrl: string;
  clientId: string;
  audience: string;
  assertionAudience: string;
  apiKeyMode: boolean;
  privateKeyFile?: string;
  /** A `sink` section for the bridge's configuration that points at this emulator, ready to paste. */
  sink: EmulatorSinkBlock;
}

/** The `sink` section of a configuration that delivers to the emulator (see docs/configuration.md). */
export interface EmulatorSinkBlock {
  type: 'partner-api';
  baseUrl: string;
  auth:
    | { tokenUrl: string; audience: string; assertionAudience: string; clientId: string; privateKeyFile: string; algorithm: 'RS256' }
    | { apiKey: string };
}

/** Shown in place of a private key file the emulator did not write (it was given `--public-key`). */
export const PRIVATE_KEY_PLACEHOLDER = 'REPLACE-WITH-THE-PRIVATE-KEY-FILE-MATCHING---public-key';

/**
 * The sink block for an emulator: JWT-assertion auth with the key it generated (or the one matching `--public-key`),
 * or the API key when only `--api-key` can authenticate.
 */
export function emulatorSinkBlock(
  announced: Omit<EmulatorAnnouncement, 'sink'>,
  apiKey: string | undefined,
  publicKeyGiven: boolean,
): EmulatorSinkBlock {
  const baseUrl = announced.url;
  if (apiKey !== undefined && publicKeyGiven && announced.privateKeyFile === undefined)
    return { type: 'partner-api', baseUrl, auth: { apiKey } };
  return {
    type: 'partner-api',
    baseUrl,
    auth: {
      tokenUrl: announced.tokenUrl,
      audience: announced.audience,
      assertionAudience: announced.assertionAudience,
      clientId: announced.clientId,
      privateKeyFile: announced.privateKeyFile ?? PRIVATE_KEY_PLACEHOLDER,
      algorithm: 'RS256',
    },
  };
}

export interface RunEmulateApiIo {
  /** Receives the announcement line (with its newline). */
  write(line: string): void;
  /** Resolves when the emulator should stop. */
  untilStopped(emulator: Emulator): Promise<unknown>;
}

function builder(yargs: Argv) {
  return yargs
    .option('port', { type: 'number', default: 8080, describe: 'TCP port (0 = any free port)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
    .option('public-key', {
      type: 'string',
      describe: 'PEM file with the RSA public key that verifies client assertions (default: generate a key pair)',
    })
    .option('client-id', { type: 'string', default: DEFAULT_CLIENT_ID, describe: 'expected iss/sub of assertions' })
    .option('audience', {
      type: 'string',
      default: DEFAULT_AUDIENCE,
      describe: 'expected audience form field of token requests',
    })
    .option('assertion-audience', { type: 'string', describe: 'expected aud of assertions (default: <url>/)' })
    .option('api-key', { type: 'string', describe: 'also accept this X-API-KEY header' })
    .option('token-lifetime', {
      type: 'number',
      default: DEFAULT_TOKEN_LIFETIME_SECONDS,
      describe: 'expires_in of issued tokens (seconds)',
    })
    .option('latency-ms', { type: 'number', default: 0, describe: 'delay added to each event POST' })
    .option('failure-rate', { type: 'number', default: 0, describe: 'share of event POSTs answered 503 (0..1)' })
    .option('status-script', { type: 'string', describe: 'statuses for the next event POSTs, e.g. 503,503,429 (then normal answers)' })
    .option('disarmed-location', {
      type: 'string',
      array: true,
      describe: 'location id whose alarm/trouble events are discarded ("device is disarmed"); repeatable',
    })
    .option('write-private-key', {
      type: 'string',
      default: DEFAULT_PRIVATE_KEY_FILE,
      describe: 'where a generated private key is written (mode 0600)',
    })
    .option('quiet', { type: 'boolean', default: false, describe: 'no request log on stderr' });
}

/** Maps parsed arguments to emulator options (reads the public key file). */
export async function emulatorOptionsFromArgs(args: EmulateApiArgs): Promise<EmulatorOptions> {
  const options: EmulatorOptions = {
    host: args.host,
    port: args.port,
    clientId: args.clientId,
    audience: args.audience,
    tokenLifetimeSeconds: args.tokenLifetime,
    latencyMs: args.latencyMs,
    failureRate: args.failureRate,
    disarmedLocations: (args.disarmedLocation ?? []).map(String),
    quiet: args.quiet,
  };
  if (args.publicKey !== undefined) options.publicKeyPem = await readFile(args.publicKey, 'utf8');
  if (args.assertionAudience !== undefined) options.assertionAudience = args.assertionAudience;
  if (args.apiKey !== undefined) options.apiKey = args.apiKey;
  if (args.statusScript !== undefined) {
    const statuses = args.statusScript.split(',').map((part) => Number(part.trim()));
    if (statuses.some((status) => !Number.isInteger(status) || status < 100 || status > 599)) {
      throw new UsageError(`--status-script: expected HTTP statuses separated by commas, e.g. 503,503,429; found "${args.statusScript}"`);
    }
    options.statusScript = statuses;
  }
  return options;
}

/** Starts the emulator, writes the generated key (if any), announces it, and closes it once `io` says stop. */
export async function runEmulateApi(args: EmulateApiArgs, io: RunEmulateApiIo = processIo): Promise<void> {
  const emulator = await startEmulator(await emulatorOptionsFromArgs(args));
  try {
    const announcement: Omit<EmulatorAnnouncement, 'sink'> = {
      url: emulator.url,
      tokenUrl: `${emulator.url}${TOKEN_PATH}`,
      eventsUrl: `${emulator.url}${EVENTS_PATH}`,
      clientId: emulator.clientId,
      audience: emulator.audience,
      assertionAudience: emulator.assertionAudience,
      apiKeyMode: args.apiKey !== undefined,
    };
    if (emulator.privateKeyPem !== null) {
      const file = resolve(args.writePrivateKey);
      await writeFile(file, emulator.privateKeyPem, { mode: 0o600 });
      await chmod(file, 0o600); // writeFile's mode only applies when it creates the file
      announcement.privateKeyFile = file;
    }
    const full: EmulatorAnnouncement = {
      ...announcement,
      sink: emulatorSinkBlock(announcement, args.apiKey, args.publicKey !== undefined),
    };
    io.write(`${JSON.stringify(full)}\n`);
    await io.untilStopped(emulator);
  } finally {
    await emulator.close();
  }
}

const processIo: RunEmulateApiIo = {
  write: (line) => {
    process.stdout.write(line);
  },
  untilStopped: () =>
    new Promise<NodeJS.Signals>((done) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done(signal);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    }),
};

/** The option types as yargs infers them (kebab-case keys; handlers see them camel-cased). */
type EmulateApiOptions = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export const emulateApiCommand: CommandModule<object, EmulateApiOptions> = {
  command: 'emulate-api',
  describe: 'Run a local emulator of the CHeKT Partner Event API (token endpoint, events, uploads)',
  builder,
  handler: async (argv) => {
    await runEmulateApi(argv);
  },
};

export default emulateApiCommand;
