import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Code comments cite the project's own protocol notes as `docs/<file>.md §N`. Every such citation must name a
 * file in docs/ and a numbered section (`## N. Title`) in it, and nothing may cite the outside reference
 * documents (or their sample file) or a bare `§N` whose document is left unsaid.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const docsDir = join(root, 'docs');
const SCANNED = ['src', 'test', 'bench'];
const SELF = fileURLToPath(import.meta.url);
/** The protocol notes this test owns; their internal `§N` references are checked too. */
const PROTOCOL_NOTES = ['dc09', 'sia-dcs', 'contact-id', 'surgard', 'partner-event-api', 'proxy-protocol'].map((name) => `${name}.md`);

type DocSections = ReadonlyMap<string, ReadonlySet<string>>;

/** Section numbers of `## N. Title` headings. */
function sectionsOf(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]!));
}

function loadDocs(): DocSections {
  const docs = new Map<string, Set<string>>();
  for (const name of readdirSync(docsDir)) {
    if (name.endsWith('.md')) docs.set(name, sectionsOf(readFileSync(join(docsDir, name), 'utf8')));
  }
  return docs;
}

const CITATION = /docs\/([\w-]+\.md)(?: §(\d+(?:\.\d+)*))?/g;
const OUTSIDE_DOCUMENT = /(?<![\w/.-])(?:(?:protocols|peers|partner-event-api)\.md|samples-public\.jsonl)/g;
const SECTION_SIGN = /§\d+(?:\.\d+)*/g;
/** What may stand right before a `§`: a docs citation's file, or an RFC (`RFC 9110 §10.2.3`). */
const SECTION_OWNER = /(?:docs\/[\w-]+\.md|RFC ?\d+) $/;

/** Every citation problem in one file's text, as `file:line: problem`. */
function citationProblems(text: string, file: string, docs: DocSections): string[] {
  const problems: string[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(CITATION)) {
    const [citation, name, section] = m;
    const sections = docs.get(name!);
    if (!sections) problems.push(`${file}:${lineOf(m.index)}: ${citation} names no file in docs/`);
    else if (section !== undefined && !sections.has(section)) {
      problems.push(`${file}:${lineOf(m.index)}: ${citation} names no section of docs/${name}`);
    }
  }
  for (const m of text.matchAll(OUTSIDE_DOCUMENT)) {
    problems.push(`${file}:${lineOf(m.index)}: ${m[0]} is outside the repository (cite docs/ or fixtures/ instead)`);
  }
  for (const m of text.matchAll(SECTION_SIGN)) {
    if (!SECTION_OWNER.test(text.slice(Math.max(0, m.index - 40), m.index))) {
      problems.push(`${file}:${lineOf(m.index)}: ${m[0]} does not say which docs/ file it cites`);
    }
  }
  return problems;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|js|mjs|json)$/.test(entry.name) && path !== SELF) yield path;
  }
}

describe('docs citations', () => {
  const docs = loadDocs();

  it('holds the protocol notes with numbered sections', () => {
    for (const name of PROTOCOL_NOTES) expect(docs.get(name)?.size, name).toBeGreaterThan(0);
  });

  it('finds the citations in src/, test/ and bench/ and every one names an existing file and section', () => {
    const problems: string[] = [];
    let citations = 0;
    for (const dir of SCANNED) {
      for (const path of sourceFiles(join(root, dir))) {
        const text = readFileSync(path, 'utf8');
        citations += [...text.matchAll(CITATION)].length;
        problems.push(...citationProblems(text, relative(root, path), docs));
      }
    }
    expect(problems).toEqual([]);
    expect(citations).toBeGreaterThan(100);
  });

  it('reports a missing section, a missing file, an outside document and a bare section', () => {
    // Built from parts so that /work/tools/cite-rewrite.mjs, run again after a merge, leaves them as they are.
    const outside = ['protocols', 'md'].join('.');
    const bare = '\u00a71.3';
    const text = [
      '// good: docs/dc09.md §3 and docs/contact-id.md, RFC 9110 §10.2.3',
      '// docs/dc09.md §99',
      '// docs/no-such-notes.md §1',
      `// ${outside} ${bare}`,
      `// see ${bare}`,
    ].join('\n');
    expect(citationProblems(text, 'x.ts', docs)).toEqual([
      'x.ts:2: docs/dc09.md §99 names no section of docs/dc09.md',
      'x.ts:3: docs/no-such-notes.md §1 names no file in docs/',
      `x.ts:4: ${outside} is outside the repository (cite docs/ or fixtures/ instead)`,
      `x.ts:4: ${bare} does not say which docs/ file it cites`,
      `x.ts:5: ${bare} does not say which docs/ file it cites`,
    ]);
  });

  it.each(PROTOCOL_NOTES)('%s: its cross-references name existing files and sections', (name) => {
    const text = readFileSync(join(docsDir, name), 'utf8');
    const own = docs.get(name)!;
    const problems: string[] = [];
    // `[file.md §N](file.md)` or `[file.md](file.md)` links to a sibling note.
    for (const m of text.matchAll(/\[([\w-]+\.md)(?: §(\d+))?\]\(([\w-]+\.md)\)/g)) {
      const [link, shown, section, target] = m;
      if (shown !== target || !existsSync(join(docsDir, target!))) problems.push(`${link}: no such note`);
      else if (section !== undefined && !docs.get(target!)?.has(section)) problems.push(`${link}: no such section`);
    }
    // Any other `§N` is a section of this note (`RFC 6749 §4.4` style references excepted).
    for (const m of text.matchAll(/(?<![\w-]\.md |RFC ?\d+ )§(\d+)(?!\.\d)/g)) {
      if (!own.has(m[1]!)) problems.push(`${m[0]} at offset ${m.index}: no such section in ${name}`);
    }
    expect(problems).toEqual([]);
  });
});
