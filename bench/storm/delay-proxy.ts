// A TCP proxy that holds every chunk back by a fixed delay in each direction, so a loopback relay
// costs a real round trip (20 ms each way = 40 ms per command and reply). Chunks leave in the
// order they came: each is scheduled at max(arrival + delay, previous departure).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  host: '127.0.0.1';
  port: number;
  /** TCP connections accepted so far, and the most open at once (what the relay's network sees). */
  stats: { connections: number; open: number; peakOpen: number };
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk `delayMs` later, in order; ends `to` after the last chunk. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  let lastDeparture = 0;
  const later = (action: () => void) => {
    const departure = Math.max(Date.now() + delayMs, lastDeparture);
    lastDeparture = departure;
    setTimeout(action, departure - Date.now());
  };
  from.on('data', (chunk: Buffer) => later(() => !to.destroyed && to.write(chunk)));
  from.on('end', () => later(() => !to.destroyed && to.end()));
}

export async function startDelayProxy(
  target: { host: string; port: number },
  oneWayDelayMs = 20,
): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const stats = { connections: 0, open: 0, peakOpen: 0 };
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    stats.connections++;
    stats.open++;
    stats.peakOpen = Math.max(stats.peakOpen, stats.open);
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    let closed = 0;
    const onClose = () => {
      closed++;
      if (closed === 2) stats.open--;
    };
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      socket.setNoDelay(true);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        onClose();
        // A reset on one side resets the other after the same delay, like a real path.
        setTimeout(() => other.destroy(), oneWayDelayMs);
      });
    }
    pipeDelayed(client, upstream, oneWayDelayMs);
    pipeDelayed(upstream, client, oneWayDelayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('delay proxy has no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    stats,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
