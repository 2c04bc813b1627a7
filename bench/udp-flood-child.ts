/**
 * A UDP flooder in its own process (`node dist/bench/udp-flood-child.js '<options JSON>'`): sends datagrams to the
 * bridge as fast as the socket takes them, from several source addresses (127.0.0.x, all routed to lo on Linux),
 * in turn: junk, a 60 KB datagram of thousands of tiny frames, and valid frames the bridge NAKs (unknown account,
 * bad CRC). Counts what it sent and every reply it got back, and sends `report` when the time is up.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { buildRequest, frameBody } from '../src/protocols/dc09/index.js';
import { tellParent } from './child.js';

export interface UdpFloodOptions {
  port: number;
  sources: string[];
  durationSeconds: number;
}

export interface UdpFloodReport {
  datagrams: number;
  bytes: number;
  replies: number;
  replyBytes: number;
  seconds: number;
}

/** Sends waiting in the socket at most, per source: enough to keep it busy without queueing memory. */
const IN_FLIGHT = 64;

function datagrams(): Buffer[] {
  const tiny = frameBody('"X"0[]');
  const unknownAccount = buildRequest({
    token: 'SIA-DCS',
    sequence: '0001',
    line: '0',
    account: '9999',
    data: '#9999|NBA1',
    timestamp: new Date(),
  });
  const badCrc = Buffer.from(unknownAccount);
  badCrc[1] = badCrc[1] === 0x30 ? 0x31 : 0x30;
  return [
    randomBytes(1000),
    Buffer.concat(Array.from({ length: Math.floor(60_000 / tiny.length) }, () => tiny)),
    unknownAccount,
    badCrc,
    Buffer.from('GET / HTTP/1.1\r\nHost: bridge\r\n\r\n'),
  ];
}

const options = JSON.parse(process.argv[2] ?? '{}') as UdpFloodOptions;
const kinds = datagrams();
const report: UdpFloodReport = { datagrams: 0, bytes: 0, replies: 0, replyBytes: 0, seconds: 0 };
const started = performance.now();
const endAt = started + options.durationSeconds * 1000;

async function flood(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (reply) => {
    report.replies++;
    report.replyBytes += reply.length;
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind({ address, port: 0 }, resolve));
  let next = 0;
  const sendOne = (): void => {
    if (performance.now() >= endAt) return;
    const datagram = kinds[next++ % kinds.length]!;
    socket.send(datagram, options.port, '127.0.0.1', (err) => {
      if (!err) {
        report.datagrams++;
        report.bytes += datagram.length;
      }
      sendOne();
    });
  };
  for (let i = 0; i < IN_FLIGHT; i++) sendOne();
  return socket;
}

const sockets = await Promise.all(options.sources.map(flood));
await new Promise((r) => setTimeout(r, Math.max(0, endAt - performance.now()) + 200)); // late replies
report.seconds = (performance.now() - started) / 1000;
for (const s of sockets) s.close();
tellParent({ type: 'report', report });
process.disconnect?.();
