/** `npm run docs`: regenerates the README's default mapping table from the code tables. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withMappingTable } from '../src/mapper/docs.js';

const path = new URL('../../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withMappingTable(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README mapping table is up to date' : 'README mapping table regenerated');
