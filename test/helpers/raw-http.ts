import { connect, type Socket } from 'node:net';

/** A raw client connection: what it received, when it closed, and how. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the ms from `connect` to the socket's close. */
  closed: Promise<number>;
  /** Ms from `connect` to the first byte received (null until then). */
  firstByteMs(): number | null;
  /** Writes, ignoring errors (the server may have closed: that is what some tests look for). */
  write(data: string | Buffer): void;
}

/** Opens a loopback connection to `url`'s port and resolves once connected. */
export async function rawConnect(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const started = Date.now();
  let data = '';
  let firstByteMs: number | null = null;
  socket.on('data', (chunk: Buffer) => {
    firstByteMs ??= Date.now() - started;
    data += chunk.toString('latin1');
  });
  socket.on('error', () => undefined); // a reset is one of the outcomes under test
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => data,
    closed,
    firstByteMs: () => firstByteMs,
    write(chunk) {
      if (!socket.destroyed && socket.writable) socket.write(chunk, () => undefined);
    },
  };
}

/** One HTTP/1.1 request head. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the responses in `raw` (interim 1xx ones included), in order. */
export function parseResponses(raw: string): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    responses.push({ status: Number(statusLine!.split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + length);
  }
  return responses;
}

/** Resolves when `predicate` holds on what `conn` received, or when the connection closes. */
export async function receivedUntil(conn: RawConnection, predicate: (raw: string) => boolean): Promise<string> {
  for (;;) {
    if (predicate(conn.received()) || conn.socket.destroyed) return conn.received();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        conn.socket.off('data', done);
        conn.socket.off('close', done);
        resolve();
      };
      conn.socket.on('data', done);
      conn.socket.on('close', done);
    });
  }
}
