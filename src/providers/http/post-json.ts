import type { CallContext } from '../../core/context.js';
import { headerForwarder } from './forward-headers.js';
import { mapRequestBuildError, mapTransportError, mapUpstreamHttpError } from './map-upstream-error.js';
import { exchange, type UpstreamReply } from './upstream-exchange.js';
import type { UpstreamPool } from './upstream-pool.js';

/**
 * POSTs a JSON body upstream; resolves on 2xx (headers read), throws the mapped GatewayError
 * otherwise. `build` makes the payload (translation included): whatever it or the serializer
 * throws happened before a byte went upstream, so it is the request's fault, not the upstream's.
 */
export type JsonPost = (path: string, build: () => unknown, ctx: CallContext) => Promise<UpstreamReply>;

/**
 * The one upstream request path every HTTP provider uses: the pool, the provider's headers plus
 * the client headers it forwards, the call's abort signal, and one error classification for
 * each way a call fails: building the request (`mapRequestBuildError`), the transport, non-2xx answers.
 */
export function createJsonPost(
  id: string,
  upstream: UpstreamPool,
  baseHeaders: Readonly<Record<string, string>>,
  forwardHeaders: readonly string[],
  redact?: (text: string) => string,
): JsonPost {
  const forward = headerForwarder(forwardHeaders);
  return async (path, build, ctx) => {
    let body: string;
    try {
      body = JSON.stringify(build());
    } catch (err) {
      throw mapRequestBuildError(id, err);
    }
    let response: UpstreamReply;
    try {
      response = await exchange(
        upstream.pool,
        {
          origin: upstream.origin,
          method: 'POST',
          path: upstream.pathPrefix + path,
          headers: forward ? forward(ctx.headers, baseHeaders) : baseHeaders,
          body,
        },
        ctx.signal,
      );
    } catch (err) {
      throw mapTransportError(id, err, ctx.signal);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    let text = '';
    try {
      text = await response.text();
    } catch {
      // the status is what matters; a broken error body is not worth a second error
    }
    throw mapUpstreamHttpError(id, response.statusCode, text, response.headers, redact ? { redact } : {});
  };
}
