/**
 * The Partner Event API emulator in its own process (`node dist/bench/emulator-child.js`): sends `ready` with its
 * URL, identities and generated private key, answers `stats`, and stops on `stop`.
 */
import { startEmulator } from '../src/emulator/server.js';
import { onParent, tellParent } from './child.js';

const emulator = await startEmulator({ quiet: true });
onParent('stats', () => tellParent({ type: 'stats', events: emulator.events().length, tokenRequests: emulator.tokenRequests() }));
onParent('stop', () => {
  void emulator.close().finally(() => {
    process.disconnect?.();
    setTimeout(() => process.exit(0), 200).unref();
  });
});
tellParent({
  type: 'ready',
  url: emulator.url,
  privateKeyPem: emulator.privateKeyPem,
  clientId: emulator.clientId,
  audience: emulator.audience,
  assertionAudience: emulator.assertionAudience,
});
