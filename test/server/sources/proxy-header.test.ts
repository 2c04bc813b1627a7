import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProxyHeader } from '../../../src/protocols/proxy/index.js';
import { readProxyHeader, type ProxyHeaderOutcome } from '../../../src/server/sources/proxy-header.js';

const servers: Server[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A loopback server reading the header off its one connection with `timeoutMs`; resolves the outcome, and the
 * bytes the server's later 'data' listener received after the hand-over.
 */
async function exchange(
  write: (client: Socket) => Promise<void>,
  timeoutMs = 2000,
): Promise<{ outcome: ProxyHeaderOutcome; later: () => Buffer; readers: () => number }> {
  let resolveOutcome!: (o: ProxyHeaderOutcome) => void;
  const outcome = new Promise<ProxyHeaderOutcome>((r) => (resolveOutcome = r));
  const later: Buffer[] = [];
  let serverSocket!: Socket;
  const server = createServer((socket) => {
    serverSocket = socket;
    readProxyHeader(socket, timeoutMs, (o) => {
      socket.on('data', (chunk) => later.push(chunk));
      resolveOutcome(o);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
  client.on('error', () => undefined);
  clients.push(client);
  await new Promise((r) => client.once('connect', r));
  await write(client);
  const result = await outcome;
  return { outcome: result, later: () => Buffer.concat(later), readers: () => serverSocket.listenerCount('data') };
}

const v2 = encodeProxyHeader({
  kind: 'proxied',
  version: 2,
  family: 'tcp4',
  source: { address: '203.0.113.9', port: 1234 },
  destination: { address: '127.0.0.1', port: 12128 },
});

describe('reading the PROXY header off a connection (docs/proxy-protocol.md §5)', () => {
  it('hands over the header and the bytes that came with it, once; later chunks go to the next reader only', async () => {
    const { outcome, later, readers } = await exchange(async (client) => {
      client.write(Buffer.concat([v2, Buffer.from('first')]));
      await sleep(20);
      client.write('second');
      await sleep(20);
    });
    expect(outcome).toMatchObject({ ok: true, header: { kind: 'proxied', source: { address: '203.0.113.9', port: 1234 } } });
    expect(outcome.ok && outcome.rest.toString()).toBe('first');
    expect(later().toString()).toBe('second');
    expect(readers()).toBe(1);
  });

  it('a header dripped a byte at a time, with a 1,000-byte extension, arrives whole', async () => {
    const long = Buffer.concat([v2, Buffer.from([0x04, 0x03, 0xe8]), Buffer.alloc(1000, 0xaa)]);
    long.writeUInt16BE(12 + 3 + 1000, 14);
    const { outcome } = await exchange(async (client) => {
      for (let i = 0; i < long.length; i += 1) {
        client.write(long.subarray(i, i + 1));
        if (i % 100 === 0) await sleep(1);
      }
      client.write('after');
    });
    expect(outcome).toMatchObject({ ok: true, header: { source: { address: '203.0.113.9' }, consumed: long.length } });
  });

  it('rejects with the parser reason as soon as a byte proves the stream is no header', async () => {
    const { outcome } = await exchange(async (client) => void client.write('\n'));
    expect(outcome).toEqual({ ok: false, reason: 'not-proxy-protocol', bytes: 1 });
  });

  it('times out after timeoutMs, counting the bytes that came', async () => {
    const { outcome } = await exchange(async (client) => void client.write(v2.subarray(0, 10)), 100);
    expect(outcome).toEqual({ ok: false, reason: 'timeout', bytes: 10 });
  });

  it('reports a connection closed before its header is complete', async () => {
    const { outcome } = await exchange(async (client) => void client.end(v2.subarray(0, 20)));
    expect(outcome).toEqual({ ok: false, reason: 'closed', bytes: 20 });
  });
});
