/**
 * The kernel's TCP table (/proc/net/tcp and tcp6), read to see what a
 * process under test holds open: how many connections go to a port, and how
 * many bytes wait unread in each (a body nobody reads). Linux only.
 */
import { readFile } from 'node:fs/promises';

export interface TcpConnection {
  readonly localPort: number;
  readonly remotePort: number;
  /** bytes received by the kernel that the process has not read */
  readonly unread: number;
}

/** `01`: TCP_ESTABLISHED (include/net/tcp_states.h). */
const ESTABLISHED = '01';

/** Established connections whose remote end is `port` on this host (the client side of them). */
export async function connectionsTo(port: number): Promise<TcpConnection[]> {
  const found: TcpConnection[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue …
      const [, local, remote, state, queues] = line.trim().split(/\s+/);
      if (local === undefined || remote === undefined || queues === undefined || state !== ESTABLISHED) continue;
      const remotePort = parseInt(remote.split(':')[1] ?? '', 16);
      if (remotePort !== port) continue;
      found.push({ localPort: parseInt(local.split(':')[1] ?? '', 16), remotePort, unread: parseInt(queues.split(':')[1] ?? '', 16) });
    }
  }
  return found;
}
