import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface LingerBounds {
  /** Body bytes read and discarded at most. */
  maxBytes: number;
  /** For at most this long. */
  timeoutMs: number;
}

const lingering = new WeakSet<Socket>();

/** Whether this socket is draining the body of a request it already answered. */
export const isLingering = (socket: Socket): boolean => lingering.has(socket);

/**
 * A lingering close, for an answer sent before the request's body was read (401, 413, 404, …)
 * with `connection: close`. Node ends such an answer with `socket.destroySoon()`: as soon as the
 * answer is flushed, the socket is destroyed, the bytes the client is still uploading meet a
 * closed socket, the kernel answers with a reset, and the client reports EPIPE / ECONNRESET
 * instead of our answer (and the SDKs upload again). So the rest of the body is read and
 * discarded, and the close waits until the body ended — within `bounds`, after which the
 * socket is destroyed anyway. Nothing is buffered.
 *
 * @example lingerOnBody(request.raw, { maxBytes: 64 << 20, timeoutMs: 10_000 }); // before sending
 */
export function lingerOnBody(req: IncomingMessage, bounds: LingerBounds): void {
  const socket = req.socket;
  if (req.complete || lingering.has(socket)) return;
  lingering.add(socket);
  let received = 0;
  let drained = false;
  let closeWhenDrained: (() => void) | null = null;
  const stop = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(stop, bounds.timeoutMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > bounds.maxBytes) stop();
  });
  req.once('end', () => {
    clearTimeout(timer);
    drained = true;
    closeWhenDrained?.();
  });
  req.resume();

  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    if (drained) destroySoon();
    else closeWhenDrained = destroySoon;
  };
}
