/**
 * A client that asks and leaves: one raw HTTP request, then the socket
 * destroyed at a chosen point of the answer. Used to prove the gate lets go
 * of what such a request held (the abort regression test, `npm run stress`).
 */
import net from 'node:net';

/**
 * Where the client leaves: right after its request is written (`sent`); once
 * `bytes` of the answer arrived (`read`); or once `bytes` arrived and it then
 * stopped reading for `ms`, long enough for the gate's writes to back up
 * (`paused`).
 */
export type Cut = { readonly kind: 'sent' } | { readonly kind: 'read'; readonly bytes: number } | { readonly kind: 'paused'; readonly bytes: number; readonly ms: number };

/** `GET /path HTTP/1.1` with `headers`, as written on the wire. */
export function requestHead(method: string, path: string, headers: Readonly<Record<string, string>> = {}): string {
  const lines = Object.entries({ host: 'gate', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

/** an answer that ends before the cut leaves the client waiting on a kept connection: it leaves after this long idle */
const IDLE_MS = 2_000;

/** Sends `head` to `host:port` and leaves at `cut`; resolves once the socket is gone. */
export function abandon(host: string, port: number, head: string, cut: Cut): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const leave = () => {
      socket.destroy();
      resolve();
    };
    socket.once('error', leave);
    socket.once('end', leave);
    socket.setTimeout(IDLE_MS, leave);
    socket.write(head, () => {
      if (cut.kind === 'sent') return leave();
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received < cut.bytes) return;
        socket.removeAllListeners('data');
        if (cut.kind === 'read') return leave();
        socket.pause();
        setTimeout(leave, cut.ms);
      });
    });
  });
}
