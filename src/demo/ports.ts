/** Which loopback ports the demo listens on: the usual ones when they are free. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * `preferred` when nothing listens on 127.0.0.1:`preferred`, else a port the
 * kernel picks (0 asks for that directly). Another process can take the port
 * before the caller binds it; for a demo on a laptop the window is small enough.
 */
export async function portOrFree(preferred: number): Promise<number> {
  if (preferred !== 0) {
    const port = await listenOn(preferred).catch(() => null);
    if (port !== null) return port;
  }
  return listenOn(0);
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}
