/** The `alarm-bridge decode` examples in README.md and docs/ work as written: each frame decodes and is answered ACK. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

const ROOT = new URL('../../', import.meta.url);
const files = [
  'README.md',
  ...readdirSync(new URL('docs/', ROOT))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Shell words of one command (single-quoted words, backslash-newline continuations joined). */
function words(command: string): string[] {
  return [...command.replace(/\\\n\s*/g, ' ').matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

const examples = files.flatMap((file) => {
  const text = readFileSync(new URL(file, ROOT), 'utf8');
  return [...text.matchAll(/^alarm-bridge decode (?:[^\n]*\\\n)*[^\n]*$/gm)].map((m) => ({ file, command: m[0] }));
});

describe('decode examples in the docs', () => {
  it('are found', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples.map((e) => [`${e.file}: ${e.command.slice(0, 60)}`, e.command]))('%s', async (_name, command) => {
    const result = await runCli(words(command).slice(1));
    const reports = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ok: boolean; reply: { kind: string; reason: string } });
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) expect([report.ok, report.reply.kind, report.reply.reason]).toEqual([true, 'ACK', 'accepted']);
  });
});
