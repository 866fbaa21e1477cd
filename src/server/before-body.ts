import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { lingerOnBody, type LingerBounds } from './linger.js';

export interface BodyGateOptions {
  bodyLimitBytes: number;
  linger: LingerBounds;
}

/**
 * What happens between a request's head and its body:
 * - a declared `content-length` over the limit is refused (413) before a byte of the body is read;
 * - `Expect: 100-continue` gets its 100 only now, once routing and authentication (onRequest)
 *   passed, so a refusal reaches the client before it uploads anything;
 * - any answer sent while the body is still arriving closes the connection with a lingering
 *   close (`linger.ts`), so the client reads our answer instead of a reset.
 */
export function registerBodyGate(app: FastifyInstance, options: BodyGateOptions): void {
  app.addHook('preParsing', async (req, reply, payload) => {
    const declared = Number(req.headers['content-length']);
    if (declared > options.bodyLimitBytes)
      throw new GatewayError(
        'payload_too_large',
        `The request body (${declared} bytes) is larger than the limit of this gateway (${options.bodyLimitBytes} bytes).`,
      );
    if (String(req.headers.expect).toLowerCase() === '100-continue' && !reply.raw.headersSent)
      reply.raw.writeContinue();
    return payload;
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete) {
      void reply.header('connection', 'close');
      lingerOnBody(req.raw, options.linger);
    }
    return payload;
  });
}
