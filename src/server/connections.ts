import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-schema.js';
import { GatewayError } from '../core/errors.js';
import { fromClientError, rawErrorResponse, writeRawError } from './error-response.js';
import { isLingering } from './linger.js';

type ServerSettings = ServerConfig;

/**
 * The fastify options that bound how long a client may take: the request head
 * (`headersTimeoutMs`), the whole request with its body (`requestTimeoutMs`), silence while we
 * wait for the client (`idleTimeoutMs`) and keep-alive. Node checks the first two every
 * `connectionsCheckingInterval`, so that interval is kept well below them.
 */
export function connectionTimeoutOptions(server: ServerSettings) {
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(server.headersTimeoutMs / 4)));
  return {
    keepAliveTimeout: server.keepAliveTimeoutMs,
    requestTimeout: server.requestTimeoutMs,
    connectionTimeout: server.idleTimeoutMs,
    http: { headersTimeout: server.headersTimeoutMs, connectionsCheckingInterval: checkEveryMs },
  };
}

interface InFlight {
  req: IncomingMessage;
  res: ServerResponse;
}

export interface ConnectionGuard {
  /** fastify's `clientErrorHandler`: Node's parser gave up on a connection (see `fromClientError`). */
  readonly clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => void;
  /** Installs the limits and listeners on the listening server. */
  readonly attach: (server: Server) => void;
}

/**
 * Guards the listener's connections:
 * - at most `maxConnections` open at once (Node drops the ones beyond);
 * - a connection silent for `idleTimeoutMs` while we wait for a request's body is answered 408
 *   and closed (silently between requests: keep-alive, and the head has `headersTimeoutMs`); one waiting for *our* answer (body received, upstream still working)
 *   is not idle from the client's side, and the call's own timeouts govern it;
 * - what Node's parser refuses itself (head or body too slow, headers too large, bad framing or
 *   method) and `Expect` headers are answered in OpenAI's error JSON, like everything else.
 * `Expect: 100-continue` requests are routed like any other; the 100 is sent only when the body
 * is about to be read (`before-body.ts`), so a refusal (401, 413, 404) comes before any upload.
 */
export function connectionGuard(settings: ServerSettings, log: Logger): ConnectionGuard {
  const inFlight = new WeakMap<Socket, InFlight>();

  /** Answers `error` on a bare socket unless an answer already started on it, then closes it. */
  const refuse = (socket: Socket, error: GatewayError, cause?: Error): void => {
    const current = inFlight.get(socket);
    if (socket.writable && !isLingering(socket) && !(current?.res.headersSent ?? false))
      socket.write(rawErrorResponse(error));
    socket.destroy(cause);
  };

  return {
    clientErrorHandler: (err, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const error = fromClientError(err);
      log.info({ code: err.code, status: error.status }, 'client connection refused by the HTTP parser');
      refuse(socket, error, err);
    },
    attach: (server) => {
      server.maxConnections = settings.maxConnections;
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const entry = { req, res };
        inFlight.set(req.socket, entry);
        res.once('close', () => {
          if (inFlight.get(req.socket) === entry) inFlight.delete(req.socket);
        });
      });
      server.on('timeout', (socket: Socket) => {
        const current = inFlight.get(socket);
        if (current === undefined) return void socket.destroy(); // between requests (keep-alive) or before one
        if (current.req.complete) return; // the client is waiting for us, not idle
        log.info({ idleTimeoutMs: settings.idleTimeoutMs }, 'closing an idle client connection');
        refuse(
          socket,
          new GatewayError('request_timeout', 'The client sent nothing in time; the connection is closed.'),
        );
      });
      server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
      server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
        const error = new GatewayError(
          'expectation_failed',
          `Unsupported Expect header: ${String(req.headers.expect)}.`,
        );
        writeRawError(res, error, { connection: 'close' });
      });
    },
  };
}
