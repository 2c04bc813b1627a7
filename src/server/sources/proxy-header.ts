/**
 * Reads the PROXY protocol header off the start of a connection (docs/proxy-protocol.md §5): holds the first
 * chunks until the parser can answer (no re-parse per byte of a dripped header), then hands over exactly once and
 * stops listening, so the connection's later chunks cost nothing here.
 */
import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyHeader, type ProxyRejection } from '../../protocols/proxy/index.js';

export type ProxyHeaderOutcome =
  /** `rest`: bytes after the header that came with it, the protocol's first bytes. */
  | { ok: true; header: ProxyHeader; rest: Buffer }
  /** `bytes`: how many arrived before giving up. */
  | { ok: false; reason: ProxyRejection | 'timeout' | 'closed'; bytes: number };

export function readProxyHeader(socket: Socket, timeoutMs: number, done: (outcome: ProxyHeaderOutcome) => void): void {
  const chunks: Buffer[] = [];
  let held = 0;
  let need = 1;
  const finish = (outcome: ProxyHeaderOutcome) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    done(outcome);
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    held += chunk.length;
    if (held < need) return;
    const bytes = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    chunks.length = 0;
    chunks.push(bytes);
    const result = parseProxyHeader(bytes);
    if (result.kind === 'incomplete') need = result.need;
    else if (result.kind === 'invalid') finish({ ok: false, reason: result.reason, bytes: held });
    else finish({ ok: true, header: result, rest: bytes.subarray(result.consumed) });
  };
  const onClose = () => finish({ ok: false, reason: 'closed', bytes: held });
  const timer = setTimeout(() => finish({ ok: false, reason: 'timeout', bytes: held }), timeoutMs);
  socket.on('data', onData);
  socket.on('close', onClose);
}
