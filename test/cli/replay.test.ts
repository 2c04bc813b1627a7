import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeFrame } from '../../src/protocols/escape.js';
import { UsageError } from '../../src/cli/frame-input.js';
import { parseCapture, parseTarget, replayCommand, replyToken, runReplay, WIRES, type ReplayResult } from '../../src/cli/replay.js';
import { buildGalaxyBlock, GALAXY_ACK, GALAXY_REJECT } from '../../src/protocols/galaxy/index.js';
import { buildAck, buildNak, buildRequest } from '../../src/protocols/dc09/index.js';
import { startTestBridge, type TestBridge } from '../server/harness.js';

const KEY_HEX = '000102030405060708090A0B0C0D0E0F';
const key = Buffer.from(KEY_HEX, 'hex');
const accounts = {
  '1234': { locationId: 'LOC', cameraId: 'cam', recorderId: 'rec' },
  SECURE: { key: KEY_HEX, keyEncoding: 'hex', locationId: 'LOC2', cameraId: 'cam2' },
};

let b: TestBridge;
let dir: string;
beforeAll(async () => {
  b = await startTestBridge({ accounts, log: { level: 'warn' } });
  dir = await mkdtemp(join(tmpdir(), 'replay-'));
});
afterAll(() => b.stop());

let seq = 0;
const clear = (account: string, data: string) =>
  buildRequest({
    token: 'SIA-DCS',
    sequence: String(++seq).padStart(4, '0'),
    line: '0',
    account,
    data: `#${account}|${data}`,
    timestamp: new Date(),
  });

/** A capture in both notations: comments, a blank line, escaped frames (one without LF/CR), NDJSON with an expected NAK. */
async function capture(name: string, nakExpected = true): Promise<string> {
  const noEnds = clear('1234', 'Nri1/BA2');
  const lines = [
    '# capture of a test panel',
    escapeFrame(clear('1234', 'Nri1/BA1')),
    '',
    escapeFrame(noEnds.subarray(1, noEnds.length - 1)),
    JSON.stringify({ frame: escapeFrame(clear('9999', 'Nri1/BA3')), ...(nakExpected ? { expect: 'NAK' } : {}) }),
    JSON.stringify({
      frame: escapeFrame(
        buildRequest({
          token: 'SIA-DCS',
          sequence: '0042',
          line: '0',
          account: 'SECURE',
          data: '#SECURE|Nri1/FA4',
          timestamp: new Date(),
          key,
        }),
      ),
      delayMs: 20,
    }),
  ];
  const file = join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

function outputOf(lines: string[]) {
  return lines.map((l) => JSON.parse(l));
}

async function replay(file: string, extra: Partial<Parameters<typeof runReplay>[0]> = {}): Promise<{ result: ReplayResult; out: any[] }> {
  const lines: string[] = [];
  const result = await runReplay(
    { file, to: `127.0.0.1:${b.bridge.port(extra.transport ?? 'tcp')}`, timeoutMs: 2000, ...extra },
    { write: (l) => void lines.push(l) },
  );
  expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
  return { result, out: outputOf(lines) };
}

describe('replay', () => {
  it('replays text and NDJSON lines over one TCP connection; NAK where expected; decrypts the *ACK with --key', async () => {
    const file = await capture('tcp.txt');
    const { result, out } = await replay(file, { key });
    expect(result.exitCode).toBe(0);
    expect(out).toHaveLength(5);
    const frames = out.slice(0, 4);
    expect(frames.map((f) => f.kind)).toEqual(['ACK', 'ACK', 'NAK', 'ACK']);
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3]);
    expect(frames.map((f) => f.line)).toEqual([2, 4, 5, 6]);
    expect(frames.every((f) => f.ok)).toBe(true);
    expect(frames[1].sent).toMatch(/^\\n.*\\r$/); // LF and CR were added
    expect(frames[0].reply).toMatch(/"ACK"\d{4}L0#1234\[\]\\r$/);
    expect(frames[2].expect).toBe('NAK');
    expect(frames[3].reply).toContain('"*ACK"0042L0#SECURE[');
    expect(frames[3].decrypted).toMatchObject({ data: '', sequence: '0042', account: 'SECURE' });
    expect(Date.parse(frames[3].decrypted.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(frames[0].decrypted).toBeUndefined();
    expect(frames.every((f) => typeof f.latencyMs === 'number' && f.latencyMs >= 0)).toBe(true);
    expect(out[4].summary).toMatchObject({ frames: 4, ack: 3, nak: 1, duh: 0, timeout: 0, unexpected: 0 });
    expect(out[4].summary.p99Ms).toBeGreaterThanOrEqual(out[4].summary.p50Ms);
    expect(result.summary).toEqual(out[4].summary);
  });

  it('replays over UDP (one datagram per frame)', async () => {
    const file = await capture('udp.ndjson');
    const { result, out } = await replay(file, { transport: 'udp' });
    expect(result.exitCode).toBe(0);
    expect(out.slice(0, 4).map((f) => f.kind)).toEqual(['ACK', 'ACK', 'NAK', 'ACK']);
    expect(result.summary).toMatchObject({ frames: 4, ack: 3, nak: 1 });
  });

  it('exits 1 when a reply is not the expected one, and paces frames with --rate', async () => {
    const file = await capture('unexpected.txt', false);
    const started = Date.now();
    const { result, out } = await replay(file, { rate: 20 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // 4 frames, 50 ms apart
    expect(result.exitCode).toBe(1);
    expect(out[2]).toMatchObject({ kind: 'NAK', expect: 'ACK', ok: false });
    expect(result.summary.unexpected).toBe(1);
    // --expect any accepts everything
    expect((await replay(file, { expect: 'any' })).result.exitCode).toBe(0);
  });

  it('reports a timeout when the receiver stays silent', async () => {
    const held = new Set<Socket>();
    const server: Server = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const file = join(dir, 'silent.txt');
    await writeFile(file, `${escapeFrame(clear('1234', 'Nri1/BA1'))}\n`);
    const result = await runReplay({ file, to: `127.0.0.1:${port}`, timeoutMs: 150 }, { write: () => undefined });
    expect(result.exitCode).toBe(1);
    expect(result.frames[0]).toMatchObject({ kind: 'timeout', reply: null, latencyMs: null, ok: false });
    expect(result.summary).toMatchObject({ frames: 1, timeout: 1, p50Ms: null });
    // expecting no reply makes the silence the right answer
    const silent = await runReplay({ file, to: `127.0.0.1:${port}`, timeoutMs: 100, expect: 'none' }, { write: () => undefined });
    expect(silent.exitCode).toBe(0);
    for (const socket of held) socket.destroy();
    await new Promise((r) => server.close(r));
  });

  it('runs as the `replay` command module (options parsed by yargs)', async () => {
    const file = await capture('cmd.txt');
    let stdout = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
    let argv: { exitCode?: number };
    try {
      argv = (await yargs(['replay', file, '--to', `127.0.0.1:${b.bridge.port('tcp')}`, '--key', KEY_HEX, '--timeout-ms', '2000'])
        .command(replayCommand)
        .strict()
        .parseAsync()) as { exitCode?: number };
    } finally {
      process.stdout.write = write;
    }
    expect(argv.exitCode).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(5);
    await expect(yargs(['replay', file, '--to', 'nowhere']).command(replayCommand).fail(false).parseAsync()).rejects.toThrow(UsageError);
  });

  it('parses targets, capture lines and reply tokens', () => {
    expect(parseTarget('127.0.0.1:12128')).toEqual({ host: '127.0.0.1', port: 12128 });
    expect(parseTarget('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseTarget('host:99999')).toThrow(UsageError);
    expect(() => parseCapture('{"frame": 1}', 'cap.ndjson')).toThrow(/cap\.ndjson:1/);
    expect(() => parseCapture('\n{not json', 'cap.ndjson')).toThrow(/cap\.ndjson:2: not valid JSON/);
    expect(() => parseCapture('{"frame": "x", "expect": "OK"}')).toThrow(/"expect"/);
    expect(parseCapture('# c\n\n{"frame": "\\\\nABC\\\\r", "delayMs": 5, "expect": "nak"}')).toMatchObject([
      { line: 3, delayMs: 5, expect: 'NAK' },
    ]);
    expect(replyToken(buildAck({ sequence: '0001', line: '0' }))).toBe('ACK');
    expect(replyToken(buildNak(new Date()))).toBe('NAK');
    expect(replyToken(Buffer.from('\n00000008"*DUH"0001L0[]\r'))).toBe('DUH');
    expect(replyToken(Buffer.from('\n00000008"RSP"0001L0[]\r'))).toBeNull();
  });

  it('--protocol galaxy|lupusec-cid: lines sent as written, replies read as ACK/reject blocks or 0x06/0x15; TCP only', async () => {
    expect(parseCapture('@0\\x8f', 'g.txt', WIRES.galaxy.complete)[0]!.bytes.toString('hex')).toBe('40308f');
    expect(WIRES.galaxy.token(GALAXY_ACK)).toBe('ACK');
    expect(WIRES.galaxy.token(GALAXY_REJECT)).toBe('NAK');
    expect(WIRES.galaxy.token(buildGalaxyBlock({ function: '0', data: '' }))).toBeNull();
    expect(WIRES.galaxy.endsSession?.(Buffer.from('\x05\x01@0\x8f', 'latin1'))).toBe(true);
    expect(
      WIRES['lupusec-cid']
        .replies()(Buffer.from([0x06, 0x15]))
        .map((r) => WIRES['lupusec-cid'].token(r)),
    ).toEqual(['ACK', 'NAK']);
    const file = join(dir, 'lupusec.txt');
    await writeFile(file, '[1234 181130010159]\n');
    await expect(
      runReplay({ file, to: '127.0.0.1:9', protocol: 'lupusec-cid', transport: 'udp' }, { write: () => undefined }),
    ).rejects.toThrow(/TCP only/);
  });
});
