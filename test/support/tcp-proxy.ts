import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy on loopback that a test can take down and bring back. */
export interface SwitchableProxy {
  port: number;
  /** Down: new connections are hung up on at once, and those under way are cut. */
  up: boolean;
  close(): Promise<void>;
}

/**
 * A proxy to `host:port` that can be taken down — as an endpoint restarting or unreachable
 * behind a firewall — and brought back. Either side of a connection going away takes the other
 * with it, so a killed client leaves no session open behind it.
 */
export async function switchableProxy(host: string, port: number, initiallyUp = true): Promise<SwitchableProxy> {
  const sockets = new Set<Socket>();
  let up = initiallyUp;
  const server = createServer((client) => {
    if (!up) return client.destroy();
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get up() {
      return up;
    },
    set up(value: boolean) {
      up = value;
      if (!value) for (const s of sockets) s.destroy();
    },
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
