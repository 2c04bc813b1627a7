/** `alarm-bridge map --config FILE [FRAME...]`: what the bridge would post for each frame. */
import type { CommandModule } from 'yargs';
import { defaultConfig, loadConfigFile } from '../config/load.js';
import { mapFrame, type MappedEvent } from '../mapper/index.js';
import { accountDirectory } from '../server/pipeline/policy.js';
import { receiveDc09 } from '../server/pipeline/receive.js';
import { clockFromArgs, frameInputs, keyFromArgs, withFrameInputOptions, type FrameInputArgs } from './frame-input.js';

type MapArgs = FrameInputArgs & { config?: string; exitCode?: number };

function eventReport(event: MappedEvent): Record<string, unknown> {
  if (event.forwarded) return { forwarded: true, body: event.body, rule: event.rule };
  const { reason, message, eventId } = event;
  return {
    forwarded: false,
    reason,
    message,
    eventId,
    ...(event.configKey ? { configKey: event.configKey } : {}),
    code: event.panelEvent.code,
  };
}

export const mapCommand: CommandModule<object, MapArgs> = {
  command: 'map [frames..]',
  describe: 'decode frames and print the Partner Event API bodies the bridge would post (or why not)',
  builder: (y) =>
    withFrameInputOptions(y).option('config', {
      type: 'string',
      describe: 'configuration file (accounts, keys, mapping); default: the embedded one',
    }) as never,
  handler: async (argv) => {
    const config = argv.config ? await loadConfigFile(argv.config) : defaultConfig();
    const directory = accountDirectory(config, keyFromArgs(argv));
    const now = clockFromArgs(argv);
    let allOk = true;
    for await (const input of frameInputs(argv.frames)) {
      const { result, decision, source, dataError } = receiveDc09(input.bytes, directory, now, { peer: null, transport: null });
      const reply = { kind: decision.kind, reason: decision.reason };
      if (!result.ok) {
        allOk = false;
        process.stdout.write(
          `${JSON.stringify({ ok: false, error: { code: result.error.code, message: result.error.message }, events: [], reply })}\n`,
        );
        continue;
      }
      const account = decision.account ?? '';
      // An account missing from the config is NAKed by the receiver, but what to add is still worth showing: its
      // events report `unmapped-account` with the key to add.
      const mappable = decision.kind === 'ACK' || decision.reason === 'unknown-account';
      const events = mappable && source ? mapFrame(source, config).map(eventReport) : [];
      const ok = decision.kind === 'ACK' || decision.kind === 'none';
      allOk &&= ok;
      process.stdout.write(
        `${JSON.stringify({ ok, account, token: result.message.token, events, reply, ...(dataError ? { dataError } : {}) })}\n`,
      );
    }
    argv.exitCode = allOk ? 0 : 1;
  },
};
