import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A Partner Event API sink no delivery reaches (nothing listens on port 9 of the loopback): whichever instance
 * delivers, the events it retries stay pending in the stream, so a test can count them.
 */
export const UNDELIVERABLE_SINK = { type: 'partner-api', baseUrl: 'http://127.0.0.1:9', auth: { apiKey: 'test-key' } };

/**
 * A Partner Event API on loopback that takes each request and never answers: deliveries stay in flight (no outcome,
 * so readiness sees no failed delivery) and the events stay pending. `sink` goes in the bridge's config.
 */
export async function startSilentApi(): Promise<{ sink: Record<string, unknown>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    sink: { type: 'partner-api', baseUrl: `http://127.0.0.1:${port}`, auth: { apiKey: 'test-key' }, timeoutSeconds: 600 },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
