/** `npm run docs`: regenerates the README's generated sections (mapping table, configuration reference). */
import { readFileSync, writeFileSync } from 'node:fs';
import { withGeneratedSections } from '../src/docs/generated.js';

const path = new URL('../../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = await withGeneratedSections(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README generated sections are up to date' : 'README generated sections regenerated');
