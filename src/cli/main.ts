import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { decodeCommand } from './decode.js';
import { emulateApiCommand } from './emulate-api.js';
import { mapCommand } from './map.js';
import { outboxCommand } from './outbox.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { ConfigError } from '../config/load.js';
import { UsageError } from './frame-input.js';

/** Every command module; each lives in its own file under src/cli/. */
const commands: CommandModule<any, any>[] = [
  serveCommand,
  decodeCommand,
  mapCommand,
  replayCommand,
  simulateCommand,
  emulateApiCommand,
  outboxCommand,
];

/** Runs the CLI with the given arguments; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(args)
    .scriptName('alarm-bridge')
    .strict()
    .demandCommand(1, 'Name a command (see --help).')
    .help()
    .version(false)
    .fail((msg, err) => {
      if (err) throw err;
      console.error(msg);
      exitCode = 2;
    });
  for (const command of commands) parser.command(command);
  try {
    const argv = await parser.parseAsync();
    if (typeof argv.exitCode === 'number') exitCode = argv.exitCode;
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof ConfigError)) throw err;
    console.error(`alarm-bridge: ${err.message}`);
    return 2;
  }
  return exitCode;
}
