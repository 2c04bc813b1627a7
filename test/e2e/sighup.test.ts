/**
 * Live configuration (issue #7): SIGHUP re-reads the file; accounts change without dropping connections, and an
 * invalid file is rejected with a log line while the old configuration stays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { TcpPanel, text } from '../server/harness.js';

const BIN = new URL('../../bin/alarm-bridge.js', import.meta.url).pathname;
let child: ChildProcess | null = null;
afterAll(() => {
  child?.kill('SIGKILL');
});

describe('SIGHUP reload', () => {
  it('adds an account on a kept-open connection and keeps the old config when the new file is invalid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hup-'));
    const configPath = join(dir, 'bridge.json');
    const base = {
      listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
      accounts: { '1111': { locationId: 'L1', cameraId: 'c1' } },
      log: { level: 'info' },
    };
    await writeFile(configPath, JSON.stringify(base));
    child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      for (const w of waiters.splice(0)) w.pattern.test(line) ? w.resolve(line) : waiters.push(w);
    });
    const waitForLog = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const found = lines.find((l) => pattern.test(l));
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no log line ${pattern}: ${lines.join('\n')}`)), 8000);
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    const port = Number(/"port":(\d+)/.exec(await waitForLog(/"msg":"listening"/))![1]);
    const panel = await TcpPanel.open(port);
    const frame = (seq: string) =>
      buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account: '2222', data: '#2222|NBA1', timestamp: new Date() });

    panel.write(frame('0001'));
    expect(text((await panel.waitForReplies(1))[0])).toContain('"NAK"'); // unknown account, rejected

    await writeFile(configPath, JSON.stringify({ ...base, accounts: { ...base.accounts, '2222': { locationId: 'L2', cameraId: 'c2' } } }));
    child.kill('SIGHUP');
    await waitForLog(/configuration reloaded/);
    panel.write(frame('0002'));
    expect(text((await panel.waitForReplies(2))[1])).toContain('"ACK"0002');

    // A section the running bridge keeps until restarted is named in a warning; the accounts still reload.
    await writeFile(
      configPath,
      JSON.stringify({ ...base, log: { level: 'debug' }, accounts: { ...base.accounts, '2222': { locationId: 'L2', cameraId: 'c2' } } }),
    );
    child.kill('SIGHUP');
    expect(await waitForLog(/changes need a restart/)).toContain('"sections":["log"]');

    await writeFile(configPath, '{ "accounts": { "2222": { "key": "not-a-key" } } }');
    child.kill('SIGHUP');
    const rejected = await waitForLog(/configuration reload rejected/);
    expect(rejected).toContain('accounts[\\"2222\\"].key');
    panel.write(frame('0003'));
    expect(text((await panel.waitForReplies(3))[2])).toContain('"ACK"0003');
    expect(panel.closed).toBe(false);
    panel.end();

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
