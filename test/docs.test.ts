import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withGeneratedSections } from '../src/docs/generated.js';

describe('README generated sections', () => {
  it('are up to date with the code tables, the config key table and the metrics (run npm run docs)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('mapping-table:start');
    expect(readme).toContain('config-reference:start');
    expect(readme).toContain('metrics:start');
    expect(await withGeneratedSections(readme)).toBe(readme);
  });

  it('refuses a README that lost a section\'s markers instead of skipping the section', async () => {
    await expect(withGeneratedSections('# no markers here\n')).rejects.toThrow(/markers/);
  });
});
