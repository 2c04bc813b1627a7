import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  emulatorOptionsFromArgs,
  emulatorSinkBlock,
  PRIVATE_KEY_PLACEHOLDER,
  runEmulateApi,
  type EmulateApiArgs,
} from '../../src/cli/emulate-api.js';
import { parseConfig } from '../../src/config/load.js';
import { createPartnerApiSink } from '../../src/sink/partner-api/sink.js';
import { makeEvent } from '../sink/partner-api/harness.js';

const base: EmulateApiArgs = {
  port: 0,
  host: '127.0.0.1',
  clientId: 'c',
  audience: 'a',
  tokenLifetime: 60,
  latencyMs: 0,
  failureRate: 0,
  writePrivateKey: '/tmp/x.pem',
  quiet: true,
};

describe('emulate-api options', () => {
  it('turns --status-script into a scripted status sequence', async () => {
    expect((await emulatorOptionsFromArgs({ ...base, statusScript: '503, 503,429' })).statusScript).toEqual([503, 503, 429]);
  });
  it('rejects a malformed --status-script naming the option', async () => {
    await expect(emulatorOptionsFromArgs({ ...base, statusScript: '503,abc' })).rejects.toThrow(/--status-script/);
  });
});

describe('emulate-api sink block', () => {
  it('is a sink section the configuration accepts and the Partner API sink delivers through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emulate-api-sink-'));
    const keyFile = join(dir, 'key.pem');
    let delivered: unknown;
    let sinkBlock: unknown;
    try {
      await runEmulateApi(
        { ...base, writePrivateKey: keyFile },
        {
          write: (line) => {
            sinkBlock = (JSON.parse(line) as { sink: unknown }).sink;
          },
          untilStopped: async () => {
            const config = parseConfig({ sink: sinkBlock }, join(dir, 'bridge.json'));
            if (config.sink.type !== 'partner-api') throw new Error(`sink type ${config.sink.type}`);
            const sink = createPartnerApiSink(config.sink, { logger: pino({ level: 'silent' }) });
            delivered = await sink.deliver(makeEvent(1));
            await sink.close();
          },
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(sinkBlock).toMatchObject({ type: 'partner-api', auth: { privateKeyFile: keyFile, algorithm: 'RS256', clientId: 'c' } });
    expect(delivered).toMatchObject({ kind: 'accepted' });
  });

  it('names the key file to supply when the emulator was given --public-key, and uses --api-key when that is all it has', () => {
    const announced = {
      url: 'http://127.0.0.1:1',
      tokenUrl: 'http://127.0.0.1:1/oauth/token',
      eventsUrl: 'x',
      clientId: 'c',
      audience: 'a',
      assertionAudience: 'http://127.0.0.1:1/',
      apiKeyMode: false,
    };
    expect(emulatorSinkBlock(announced, undefined, true).auth).toMatchObject({ privateKeyFile: PRIVATE_KEY_PLACEHOLDER });
    expect(emulatorSinkBlock({ ...announced, apiKeyMode: true }, 'k-1', true).auth).toEqual({ apiKey: 'k-1' });
  });
});
