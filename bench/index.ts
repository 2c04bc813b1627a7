/** `npm run bench`: prints one JSON summary of the project's speed figures. */
import { benchDecode } from './decode.js';

const summary: Record<string, unknown> = { node: process.version, cpus: (await import('node:os')).cpus().length };
summary.decode = benchDecode();
console.log(JSON.stringify(summary, null, 2));
