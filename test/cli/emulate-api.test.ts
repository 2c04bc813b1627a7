import { describe, expect, it } from 'vitest';
import { emulatorOptionsFromArgs, type EmulateApiArgs } from '../../src/cli/emulate-api.js';

const base: EmulateApiArgs = {
  port: 0, host: '127.0.0.1', clientId: 'c', audience: 'a', tokenLifetime: 60, latencyMs: 0, failureRate: 0, writePrivateKey: '/tmp/x.pem', quiet: true,
};

describe('emulate-api options', () => {
  it('turns --status-script into a scripted status sequence', async () => {
    expect((await emulatorOptionsFromArgs({ ...base, statusScript: '503, 503,429' })).statusScript).toEqual([503, 503, 429]);
  });
  it('rejects a malformed --status-script naming the option', async () => {
    await expect(emulatorOptionsFromArgs({ ...base, statusScript: '503,abc' })).rejects.toThrow(/--status-script/);
  });
});
