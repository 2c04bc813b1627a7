/** `npm run docs`: regenerates the generated sections of docs/*.md (configuration reference, mapping table, metrics). */
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_FILES, withGeneratedSections } from '../src/docs/generated.js';

for (const { file, sections } of GENERATED_FILES) {
  const path = new URL(`../../${file}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = await withGeneratedSections(file, before, sections);
  if (after !== before) writeFileSync(path, after);
  console.log(`${file}: ${after === before ? 'generated sections are up to date' : 'generated sections regenerated'}`);
}
