/** Shared by the end-to-end tests: a partner-api sink pointed at a running emulator, and a polling wait. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_PATH, type Emulator } from '../../src/emulator/server.js';

/** A temp directory holding the emulator's private key, and the `sink` config section that uses it (JWT auth). */
export async function emulatorSink(emulator: Emulator): Promise<{ dir: string; sink: Record<string, unknown> }> {
  const dir = await mkdtemp(join(tmpdir(), 'api-'));
  const privateKeyFile = join(dir, 'partner.key');
  await writeFile(privateKeyFile, emulator.privateKeyPem!);
  return {
    dir,
    sink: {
      type: 'partner-api',
      baseUrl: emulator.url,
      auth: {
        tokenUrl: `${emulator.url}${TOKEN_PATH}`,
        audience: emulator.audience,
        assertionAudience: emulator.assertionAudience,
        clientId: emulator.clientId,
        privateKeyFile,
      },
    },
  };
}

/** Polls until the predicate holds; throws after the timeout. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
