import yargs from 'yargs';
import type { CommandModule } from 'yargs';

/** Every command module; each lives in its own file under src/cli/. */
const commands: CommandModule<any, any>[] = [];

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
  const argv = await parser.parseAsync();
  if (typeof argv.exitCode === 'number') exitCode = argv.exitCode;
  return exitCode;
}
