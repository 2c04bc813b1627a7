/**
 * The machine's limit for the receiver figures (`node dist/bench/ack-limit-child.js`): a TCP server on 127.0.0.1 that
 * answers every DC-09 frame (each ends with CR) with one fixed, valid encrypted ACK and does nothing else — no
 * decoding, no sink, no log. The load generator drives it exactly as it drives the bridge, so the bridge's figures
 * read as a share of what this machine and this load generator allow. Sends `ready` with the port; `gauge-start`
 * and `gauge-stop` measure this process like the bridge's (serveGauge); stops on `stop`.
 */
import { createServer, type Socket } from 'node:net';
import { buildEncryptedAck } from '../src/protocols/dc09/build.js';
import { onParent, serveGauge, tellParent } from './child.js';
import { ACCOUNT_PREFIX, BENCH_KEY_HEX } from './setup.js';

const CR = 0x0d;
/** Replies for up to this many frames in one chunk are sliced from one buffer; larger chunks repeat it. */
const BATCH = 64;
const ack = buildEncryptedAck(
  { sequence: '0001', line: '0', account: `${ACCOUNT_PREFIX}0001` },
  Buffer.from(BENCH_KEY_HEX, 'hex'),
  new Date(),
);
const acks = Buffer.concat(Array.from({ length: BATCH }, () => ack));

const sockets = new Set<Socket>();
const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('data', (chunk: Buffer) => {
    let frames = 0;
    for (let at = chunk.indexOf(CR); at >= 0; at = chunk.indexOf(CR, at + 1)) frames++;
    for (; frames > 0; frames -= BATCH) socket.write(acks.subarray(0, Math.min(frames, BATCH) * ack.length));
  });
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  tellParent({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});

serveGauge();
onParent('stop', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => {
    process.disconnect?.();
    setTimeout(() => process.exit(0), 200).unref();
  });
});
