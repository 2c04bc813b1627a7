import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { JsonSyntaxError, parseJsonText } from '../../src/config/json.js';

function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJsonText(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(text)}`);
}

describe('parseJsonText', () => {
  it('reads what JSON.parse reads', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(parseJsonText(text).value).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes escapes and numbers', () => {
    const { value } = parseJsonText('{"a":"\\u0041\\n\\t\\"\\\\\\/","n":[-0.5e2,0,12,1E+2]}');
    expect(value).toEqual({ a: 'A\n\t"\\/', n: [-50, 0, 12, 100] });
  });

  it('skips a byte order mark', () => {
    expect(parseJsonText('\ufeff{"a":1}').value).toEqual({ a: 1 });
  });

  it('keeps __proto__ as an ordinary key', () => {
    const { value } = parseJsonText('{"__proto__": {"polluted": true}}') as { value: Record<string, unknown> };
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lists keys given twice with their position', () => {
    const { duplicates } = parseJsonText('{\n  "a": {"x": 1,\n    "x": 2},\n  "a": 3\n}');
    expect(duplicates).toEqual([
      { path: ['a'], key: 'x', line: 3, column: 5 },
      { path: [], key: 'a', line: 4, column: 3 },
    ]);
  });

  it('reports syntax errors with line, column and a hint', () => {
    const trailing = syntaxError('{\n  "a": 1,\n}');
    expect([trailing.line, trailing.column]).toEqual([3, 1]);
    expect(trailing.message).toContain('no comma after the last property');
    expect(syntaxError('[1, 2,]').message).toContain('no comma after the last item');
    expect(syntaxError('{\n  // note\n  "a": 1}').message).toMatch(/^line 2, column 3: .*JSON has no comments/);
    expect(syntaxError("{'a': 1}").message).toContain('double quotes');
    expect(syntaxError('{a: 1}').message).toContain('need double quotes');
    expect(syntaxError('{"a": 1 "b": 2}').message).toContain("expected ',' or '}'");
    expect(syntaxError('').message).toContain('empty');
    expect(syntaxError('{"a": "x').message).toContain('not closed');
    expect(syntaxError('{"a": 01}').message).toContain('invalid number');
    expect(syntaxError('{"a": tru}').message).toContain('expected a value');
    expect(syntaxError('{} {}').message).toContain('after the end');
    expect(syntaxError('"a\\x"').message).toContain('invalid escape');
    expect(syntaxError('"line\nbreak"').message).toContain('control character');
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(syntaxError('['.repeat(100_000)).message).toContain('nesting deeper');
  });
});
