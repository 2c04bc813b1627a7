/** Shared set-up of the partner-api tests: a real emulator on loopback, a key file, a capturing logger. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../src/emulator/server.js';
import { createLogger, type Logger } from '../../../src/log.js';
import {
  createPartnerApiSink,
  type PartnerApiSink,
  type PartnerApiSinkConfig,
  type PartnerApiSinkDeps,
} from '../../../src/sink/partner-api/sink.js';
import type { OutgoingEvent, PartnerEvent } from '../../../src/sink/types.js';

export interface LogCapture {
  logger: Logger;
  lines: string[];
  text(): string;
  records(): Array<Record<string, unknown>>;
}

export function captureLog(level = 'trace'): LogCapture {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } });
  return {
    logger,
    lines,
    text: () => lines.join(''),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export function makeEvent(n: number, body: Partial<PartnerEvent> = {}, extra: Partial<OutgoingEvent> = {}): OutgoingEvent {
  return {
    account: '1234',
    body: {
      version: '1.0',
      location_id: 'LOC-1',
      recorder_id: 'REC-1',
      camera_id: 'CAM-1',
      event_id: `evt-${n}`,
      event_type: 'alarm',
      event_status: 'active',
      event_time: '2026-01-15T10:00:00.000Z',
      sent_at: '2026-01-15T10:00:00.000Z',
      should_signal_to_monitoring_center: true,
      upload_snapshot_count: 0,
      upload_short_mp4: false,
      upload_event_mp4: false,
      payload: { protocol: 'SIA-DCS', code: 'BA', zone: n },
      ...body,
    },
    ...extra,
  };
}

export interface Harness {
  emu: Emulator;
  sink: PartnerApiSink;
  log: LogCapture;
  config: PartnerApiSinkConfig;
  keyFile: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  mode?: 'jwt' | 'api-key';
  config?: Partial<PartnerApiSinkConfig>;
  auth?: Record<string, unknown>;
  deps?: Partial<PartnerApiSinkDeps>;
  log?: LogCapture;
}

export const TEST_API_KEY = 'test-api-key-0f9a8b7c6d5e4f3a';

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const mode = opts.mode ?? 'jwt';
  const emu = await startEmulator({
    quiet: true,
    ...(mode === 'api-key' ? { apiKey: TEST_API_KEY } : {}),
    ...opts.emulator,
  });
  const dir = await mkdtemp(join(tmpdir(), 'partner-api-'));
  const keyFile = join(dir, 'partner.key');
  await writeFile(keyFile, emu.privateKeyPem ?? '', { mode: 0o600 });
  const auth: PartnerApiSinkConfig['auth'] =
    mode === 'api-key'
      ? { apiKey: TEST_API_KEY }
      : {
          tokenUrl: `${emu.url}/oauth/token`,
          audience: emu.audience,
          assertionAudience: emu.assertionAudience,
          clientId: emu.clientId,
          keyId: 'test-kid',
          privateKeyFile: keyFile,
          algorithm: 'RS256',
        };
  const config: PartnerApiSinkConfig = {
    type: 'partner-api',
    baseUrl: emu.url,
    auth: { ...auth, ...opts.auth } as PartnerApiSinkConfig['auth'],
    timeoutSeconds: 5,
    connections: 8,
    maxRetryAgeSeconds: 60,
    maxQueuedEvents: 100_000,
    ...opts.config,
  };
  const log = opts.log ?? captureLog();
  const sink = createPartnerApiSink(config, { logger: log.logger, mediaRetryBaseMs: 5, ...opts.deps });
  return {
    emu,
    sink,
    log,
    config,
    keyFile,
    async close() {
      await sink.close();
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `server` on an ephemeral loopback port; `close` also drops kept-alive connections. */
export async function listenLoopback(server: Server): Promise<{ base: string; close(): Promise<void> }> {
  server.keepAliveTimeout = 50;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TokenAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * A token endpoint whose answers the test decides (the emulator has no token-endpoint faults). `answer` gets the
 * posted form; every form is kept in `forms`.
 */
export async function startTokenServer(
  answer: (form: URLSearchParams) => TokenAnswer,
): Promise<{ url: string; forms: URLSearchParams[]; close(): Promise<void> }> {
  const forms: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(text);
      forms.push(form);
      const { status, body, headers } = answer(form);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    });
  });
  const { base, close } = await listenLoopback(server);
  return { url: `${base}/oauth/token`, forms, close };
}

/** A tiny JPEG-serving camera stand-in on loopback. */
export const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  Buffer.alloc(4000, 0x5a),
  Buffer.from([0xff, 0xd9]),
]);

export interface SnapshotServer {
  url: string;
  requests: Array<{ url: string; authorization: string | undefined }>;
  /** Statuses to answer before serving the image (e.g. [503, 503]). */
  failures: number[];
  close(): Promise<void>;
}

export async function startSnapshotServer(expectAuth?: { username: string; password: string }): Promise<SnapshotServer> {
  const state: SnapshotServer = { url: '', requests: [], failures: [], close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const fail = state.failures.shift();
    if (fail !== undefined) {
      res.writeHead(fail, { 'content-length': '0' }).end();
      return;
    }
    if (expectAuth) {
      const want = `Basic ${Buffer.from(`${expectAuth.username}:${expectAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic', 'content-length': '0' }).end();
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(JPEG.length) }).end(JPEG);
  });
  const { base, close } = await listenLoopback(server);
  state.url = `${base}/snapshot.jpg?channel=1`;
  state.close = close;
  return state;
}
