import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { defaultSupervisionStatePath } from '../../src/server/ops/supervision.js';

const unit = readFileSync(new URL('../../deploy/alarm-bridge.service', import.meta.url), 'utf8');
const setting = (name: string) => unit.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1]?.trim() ?? '';

describe('deploy/alarm-bridge.service with config.example.json', () => {
  it('lets the bridge write everything the example configuration writes (outbox, its media key, supervision state)', async () => {
    const writable = setting('ReadWritePaths').split(/\s+/).filter(Boolean);
    expect(writable).toContain('/var/lib/alarm-bridge');
    // The unit's configuration path: relative paths in the file resolve against its directory.
    const config = await loadConfigFile(new URL('../../config.example.json', import.meta.url).pathname);
    const installed = { ...config, source: '/etc/alarm-bridge/bridge.json' };
    const written = [installed.outbox!.dir, installed.outbox!.keyFile!, defaultSupervisionStatePath(installed)];
    for (const file of written)
      expect(
        writable.some((dir) => file.startsWith(`${dir}${path.sep}`)),
        file,
      ).toBe(true);
    expect(setting('ExecStart')).toContain('--config /etc/alarm-bridge/bridge.json');
  });
});
