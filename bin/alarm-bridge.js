#!/usr/bin/env node
import { endQuietlyOnClosedPipe } from '../dist/src/cli/closed-pipe.js';
import { main } from '../dist/src/cli/main.js';

// Report commands end quietly when their reader goes away; `serve` keeps its own shutdown path.
if (process.argv[2] !== 'serve') endQuietlyOnClosedPipe(process.stdout);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
