/**
 * `alarm-bridge outbox list | head -1`: once the reader closes the pipe, the next write fails with EPIPE. For a
 * command that prints a report that only means nobody wants the rest: end quietly with status 0 instead of an
 * unhandled 'error' event and its stack trace. Any other write error is reported in one line (status 1).
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return exit(0);
    process.stderr.write(`alarm-bridge: cannot write to standard output: ${err.message}\n`);
    exit(1);
  });
}
