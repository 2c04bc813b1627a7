import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { buildSurgardHeartbeat, withTerminator } from '../../../src/protocols/surgard/index.js';
import { encodeProxyHeader } from '../../../src/protocols/proxy/index.js';
import type { BridgeOptions } from '../../../src/server/app/bridge.js';
import { byteLink, startTestBridge, TcpPanel, text, type TestBridge } from '../harness.js';

const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' } };
let running: TestBridge[] = [];
const sockets: Socket[] = [];
async function bridge(overrides: Record<string, unknown> = {}): Promise<TestBridge> {
  const b = await startTestBridge({ accounts, ...overrides });
  running.push(b);
  return b;
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

let seq = 0;
const nullFrame = () =>
  buildRequest({
    token: 'NULL',
    sequence: String(++seq % 10000).padStart(4, '0'),
    line: '0',
    account: '1234',
    data: '',
    timestamp: new Date(),
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openConnections(b: TestBridge): Promise<number> {
  return (await b.bridge.metrics.openConnections.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function rejections(b: TestBridge, reason: string): Promise<number> {
  return (await b.bridge.metrics.rejections.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** Waits until the bridge itself counts `n` open connections (a client's connect completes before the server sees it). */
async function untilOpen(b: TestBridge, n: number): Promise<void> {
  for (let i = 0; i < 500 && (await openConnections(b)) !== n; i++) await sleep(10);
  expect(await openConnections(b)).toBe(n);
}

/** `count` silent connections from `localAddress`, each kept open. */
async function fill(port: number, count: number, localAddress = '127.0.0.1'): Promise<Socket[]> {
  const opened = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  for (const s of opened) s.on('error', () => undefined);
  sockets.push(...opened);
  return opened;
}

const closedCount = (list: Socket[]) => list.filter((s) => s.destroyed || s.readableEnded).length;

describe('connection fairness at maxConnections', () => {
  it('one source holding every slot: a panel from 127.0.0.2 still gets its ACK within 1 s', async () => {
    const b = await bridge({ receiver: { maxConnections: 20 } });
    const port = b.bridge.port('tcp');
    const hog = await fill(port, 20);
    await untilOpen(b, 20);
    const panel = await TcpPanel.open(port, '127.0.0.2');
    panel.write(nullFrame());
    const [reply] = await panel.waitForReplies(1, 1000);
    expect(text(reply)).toContain('"ACK"');
    expect(await rejections(b, 'connection-evicted')).toBe(1);
    await sleep(50);
    expect(closedCount(hog)).toBe(1);
    expect(b.logs()).toContain('longest-idle connection');
    // The hog is at its fair share now: its next connection is refused, the panel keeps its slot.
    const [extra] = await fill(port, 1);
    await new Promise((r) => extra!.once('close', r));
    expect(panel.closed).toBe(false);
    expect(await rejections(b, 'max-connections')).toBe(1);
  });

  it('evicts the longest-idle connection: the one whose panel spoke last stays', async () => {
    const b = await bridge({ receiver: { maxConnections: 3 } });
    const port = b.bridge.port('tcp');
    const panels = [await TcpPanel.open(port), await TcpPanel.open(port), await TcpPanel.open(port)];
    for (const i of [2, 0, 1]) {
      panels[i]!.write(nullFrame());
      await panels[i]!.waitForReplies(1);
      await sleep(20);
    }
    const newcomer = await TcpPanel.open(port, '127.0.0.2');
    await panels[2]!.waitForClose(1000); // spoke first, so idle longest
    expect([panels[0]!.closed, panels[1]!.closed]).toEqual([false, false]);
    newcomer.write(nullFrame());
    await newcomer.waitForReplies(1, 1000);
  });

  it('the cap is shared by every TCP listener, Sur-Gard included', async () => {
    const b = await bridge({
      receiver: { maxConnections: 4 },
      listeners: [
        { protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 },
        { protocol: 'surgard', transport: 'tcp', host: '127.0.0.1', port: 0 },
      ],
    });
    const hog = await fill(b.bridge.port('tcp'), 4);
    await untilOpen(b, 4);
    const [receiver] = await fill(b.bridge.port('tcp', 'surgard'), 1, '127.0.0.2');
    const replies: number[] = [];
    receiver!.on('data', (d: Buffer) => replies.push(...d));
    receiver!.write(withTerminator(buildSurgardHeartbeat()));
    for (let i = 0; i < 100 && replies.length === 0; i++) await sleep(10);
    expect(replies).toEqual([0x06]);
    expect(closedCount(hog)).toBe(1);
    expect(await openConnections(b)).toBe(4);
  });

  it('maxConnectionsPerSource refuses a source at its own cap; other sources still connect', async () => {
    const b = await bridge({ receiver: { maxConnectionsPerSource: 2 } });
    const port = b.bridge.port('tcp');
    await fill(port, 2);
    await untilOpen(b, 2);
    const third = await TcpPanel.open(port);
    await third.waitForClose(1000);
    const other = await TcpPanel.open(port, '127.0.0.2');
    other.write(nullFrame());
    await other.waitForReplies(1, 1000);
    expect(await rejections(b, 'max-connections-per-source')).toBe(1);
    expect(b.logs()).toContain('maxConnectionsPerSource reached');
  });
});

describe('idle timeout counts frames, not bytes', () => {
  it('junk and NUL bytes do not keep a connection open; complete frames do', async () => {
    const b = await bridge({ receiver: { idleTimeoutSeconds: 1 } });
    const port = b.bridge.port('tcp');
    const junk = await TcpPanel.open(port);
    const panel = await TcpPanel.open(port);
    const opened = Date.now();
    const keepAlive = setInterval(() => {
      if (!junk.closed) junk.write(Math.random() < 0.5 ? '\0' : 'x');
      if (!panel.closed) panel.write(nullFrame());
    }, 200);
    try {
      await junk.waitForClose(5000);
      expect(Date.now() - opened).toBeGreaterThanOrEqual(900);
      await sleep(500);
      expect(panel.closed).toBe(false);
      expect(panel.replies.length).toBeGreaterThan(3);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('a frame dribbled in a byte at a time and never completed does not keep it open', async () => {
    const b = await bridge({ receiver: { idleTimeoutSeconds: 1 } });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const frame = nullFrame();
    let at = 0;
    const dribble = setInterval(() => {
      if (!panel.closed && at < frame.length - 1) panel.write(frame.subarray(at, ++at));
    }, 300);
    try {
      await panel.waitForClose(5000);
      expect(panel.replies).toHaveLength(0);
    } finally {
      clearInterval(dribble);
    }
  });
});

describe('proxyProtocol listeners (docs/proxy-protocol.md §5)', () => {
  const PROXIED_DC09 = { protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0, proxyProtocol: true };
  const header = (version: 1 | 2, address: string, port: number) =>
    encodeProxyHeader({
      kind: 'proxied',
      version,
      family: address.includes(':') ? 'tcp6' : 'tcp4',
      source: { address, port },
      destination: { address: address.includes(':') ? '::1' : '127.0.0.1', port: 12128 },
    });
  const proxied = (overrides: Record<string, unknown> = {}, options: Partial<BridgeOptions> = {}) =>
    startTestBridge({ accounts, listeners: [PROXIED_DC09], ...overrides }, options).then((b) => (running.push(b), b));

  async function headerRejections(b: TestBridge, reason: string): Promise<number> {
    return (await b.bridge.metrics.proxyHeaderRejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  it.each([1, 2] as const)(
    'v%s header then a frame in the same write: ACK, and the log and activity show the header address',
    async (version) => {
      const seen: string[] = [];
      const b = await proxied({}, { onPanelActivity: (_account, peer) => seen.push(`${peer.address}:${peer.port}`) });
      const panel = await TcpPanel.open(b.bridge.port('tcp'));
      panel.write(Buffer.concat([header(version, '203.0.113.7', 40001), nullFrame()]));
      const [reply] = await panel.waitForReplies(1);
      expect(text(reply)).toContain('"ACK"');
      expect(b.logs()).toContain('"peer":"203.0.113.7:40001"');
      expect(b.logs()).not.toMatch(/"peer":"127\.0\.0\.1:\d+","transport":"tcp"/);
      expect(seen).toEqual(['203.0.113.7:40001']);
    },
  );

  it('an IPv6 source, and a header cut into single bytes before a second frame', async () => {
    const b = await proxied();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    for (const byte of header(2, '2001:db8::7', 5000)) {
      panel.write(Buffer.from([byte]));
      await sleep(1);
    }
    panel.write(nullFrame());
    panel.write(nullFrame());
    const replies = await panel.waitForReplies(2);
    expect(replies.map(text).filter((r) => r.includes('"ACK"'))).toHaveLength(2);
    expect(b.logs()).toContain('"peer":"2001:db8::7:5000"');
  });

  it('a LOCAL header (health check) keeps the socket address', async () => {
    const b = await proxied();
    const panel = await TcpPanel.open(b.bridge.port('tcp'), '127.0.0.3');
    panel.write(Buffer.concat([encodeProxyHeader({ kind: 'local', version: 2 }), nullFrame()]));
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"ACK"');
    expect(b.logs()).toMatch(/"peer":"127\.0\.0\.3:\d+"/);
  });

  it.each([
    ['a DC-09 frame without a header', () => nullFrame(), 'not-proxy-protocol'],
    ['garbage', () => Buffer.from('GET / HTTP/1.1\r\n'), 'not-proxy-protocol'],
    ['a broken v1 header', () => Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 99999 1\r\n'), 'v1-malformed'],
    ['a v2 header of version 3', () => Buffer.concat([header(2, '203.0.113.7', 1).subarray(0, 12), Buffer.from([0x31])]), 'v2-bad-version'],
  ])('%s: closed, no reply, counted and logged with the socket address', async (_name, bytes, reason) => {
    const b = await proxied();
    const panel = await TcpPanel.open(b.bridge.port('tcp'), '127.0.0.4');
    panel.write(bytes());
    await panel.waitForClose(2000);
    expect(panel.replies).toEqual([]);
    expect(await headerRejections(b, reason)).toBe(1);
    expect(b.logs()).toMatch(new RegExp(`"reason":"${reason}","peer":"127\\.0\\.0\\.4:\\d+","listener":"dc09/tcp/127\\.0\\.0\\.1:\\d+"`));
    await untilOpen(b, 0);
  });

  it('no header within 5 s: closed and counted as timeout; closing before the header counts as closed', async () => {
    const b = await proxied();
    const silent = await TcpPanel.open(b.bridge.port('tcp'));
    const quitter = await TcpPanel.open(b.bridge.port('tcp'));
    quitter.write('PROXY TCP4 ');
    quitter.end();
    await silent.waitForClose(7000);
    expect(await headerRejections(b, 'timeout')).toBe(1);
    expect(await headerRejections(b, 'closed')).toBe(1);
    expect(b.logs()).toContain('no complete PROXY protocol header within 5 s');
  }, 10_000);

  it('maxConnectionsPerSource counts the header address, not the balancer', async () => {
    const b = await proxied({ receiver: { maxConnectionsPerSource: 1 } });
    const port = b.bridge.port('tcp');
    // Three connections from the balancer's one address wait for their header: none is refused for it.
    const links = [await TcpPanel.open(port), await TcpPanel.open(port), await TcpPanel.open(port)];
    await untilOpen(b, 3);
    links[0]!.write(Buffer.concat([header(1, '198.51.100.1', 1), nullFrame()]));
    links[1]!.write(Buffer.concat([header(2, '198.51.100.2', 2), nullFrame()]));
    await links[0]!.waitForReplies(1);
    await links[1]!.waitForReplies(1);
    links[2]!.write(Buffer.concat([header(2, '198.51.100.1', 3), nullFrame()]));
    await links[2]!.waitForClose(2000);
    expect(links[2]!.replies).toEqual([]);
    expect(await rejections(b, 'max-connections-per-source')).toBe(1);
    expect(b.logs()).toContain('"peer":"198.51.100.1:3"');
    expect([links[0]!.closed, links[1]!.closed]).toEqual([false, false]);
  });

  it('works for every TCP protocol: a Sur-Gard heartbeat behind a v1 header gets its ACK', async () => {
    const b = await proxied({ listeners: [{ protocol: 'surgard', transport: 'tcp', host: '127.0.0.1', port: 0, proxyProtocol: true }] });
    const link = await byteLink(b.bridge.port('tcp', 'surgard'));
    link.socket.write(Buffer.concat([header(1, '192.0.2.44', 7000), withTerminator(buildSurgardHeartbeat())]));
    expect(await link.waitFor(1)).toEqual([0x06]);
    expect(b.logs()).toContain('"peer":"192.0.2.44:7000"');
  });
});
