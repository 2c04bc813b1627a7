/** Runs the CLI in-process with arguments (and optional stdin lines), capturing what it writes to stdout. */
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export async function runCli(args: string[], stdinLines?: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const logErr = console.error;
  const stdinDescriptor = Object.getOwnPropertyDescriptor(process, 'stdin');
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  console.error = (...parts: unknown[]) => {
    stderr += `${parts.join(' ')}\n`;
  };
  if (stdinLines) Object.defineProperty(process, 'stdin', { value: Readable.from([stdinLines.join('\n') + '\n']), configurable: true });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    console.error = logErr;
    if (stdinLines && stdinDescriptor) Object.defineProperty(process, 'stdin', stdinDescriptor);
  }
}
