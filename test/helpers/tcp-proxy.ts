import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy in front of a real server, that a test can freeze (bytes held, sockets kept open) or cut. */
export interface TcpProxy {
  readonly port: number;
  /** Stops forwarding in both directions; connections stay open and new ones are accepted but go nowhere. */
  freeze(): void;
  /** Forwards again, held bytes first. */
  thaw(): void;
  /** Destroys every connection and refuses new ones (the port stops listening). */
  cut(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a proxy on a random loopback port forwarding to `target`: the way to freeze a shared
 * PostgreSQL or Redis for one test (as SIGSTOP would) without touching the real server.
 *
 * @example const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 }); proxy.freeze();
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const held: (() => void)[] = [];
  const forward = (from: Socket, to: () => Socket | null): void => {
    from.on('data', (chunk: Buffer) => {
      const send = (): void => {
        to()?.write(chunk);
      };
      if (frozen) held.push(send);
      else send();
    });
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    let upstream: Socket | null = null;
    const open = (): void => {
      upstream = connect(target);
      sockets.add(upstream);
      forward(upstream, () => client);
      upstream.on('close', () => client.destroy());
      upstream.on('error', () => client.destroy());
    };
    forward(client, () => upstream);
    client.on('close', () => upstream?.destroy());
    client.on('error', () => upstream?.destroy());
    if (frozen) held.push(open);
    else open();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const close = (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  };
  return {
    port,
    freeze: () => void (frozen = true),
    thaw() {
      frozen = false;
      for (const run of held.splice(0)) run();
    },
    cut: close,
    close,
  };
}
