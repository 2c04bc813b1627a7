import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/alarm-bridge.js', import.meta.url).pathname;
const sample = (
  JSON.parse(readFileSync(new URL('../../fixtures/dc09-samples.jsonl', import.meta.url), 'utf8').split('\n')[0]!) as { frame: string }
).frame;
const escaped = sample.replace(/\n/g, '\\n').replace(/\r/g, '\\r');

describe('a report command whose reader closes the pipe (`… | head -1`)', () => {
  it('ends with status 0 and no stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'decode', '--now', '2021-12-22T12:40:52Z'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined); // the command exits before reading all its input: expected here
    // Far more output than a pipe buffers: the command is still writing when the reader goes away.
    child.stdin.end(`${escaped}\n`.repeat(20_000));
    const firstLine = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().split('\n')[0]!)),
    );
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(JSON.parse(firstLine)).toMatchObject({ ok: true });
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
