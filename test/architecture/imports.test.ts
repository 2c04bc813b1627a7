/**
 * The folder tree reads like the data flow only while imports point one way: no module of src/ imports itself back
 * through others (type-only imports included: a cycle of types still ties two modules' reasons to change).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of one module, resolved to source files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
    resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')),
  );
}

/** Every cycle found by a depth-first walk, each as the list of modules it passes through. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe('imports in src/', () => {
  it('form no cycle', () => {
    const graph = new Map(modules(SRC).map((file) => [file, importsOf(file)]));
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph).map((cycle) => cycle.map((f) => relative(SRC, f)).join(' → '))).toEqual([]);
  });

  it('point from the edges inwards: nothing outside cli/ imports a command module', () => {
    const graph = new Map(modules(SRC).map((file) => [file, importsOf(file)]));
    const CLI = join(SRC, 'cli');
    const inwards = [...graph].flatMap(([file, imports]) =>
      file.startsWith(CLI) ? [] : imports.filter((i) => i.startsWith(CLI)).map((i) => `${relative(SRC, file)} → ${relative(SRC, i)}`),
    );
    expect(inwards).toEqual([]);
  });

  it('the walk finds a planted cycle', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
