import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { GatewayCall } from '../core/pipeline.js';
import { parseChatRequest, parseEmbeddingRequest } from '../core/validate-request.js';
import { internalsOf, type Gateway, type InternalGateway } from '../gateway.js';
import { registerBodyGate } from './before-body.js';
import { connectionGuard, connectionTimeoutOptions } from './connections.js';
import { principalFor, registerEdgeAuthentication } from './edge-auth.js';
import { errorHeaders, fromFrameworkError } from './error-response.js';
import { Lifecycle } from './lifecycle.js';
import { registerOverloadGate } from './overload.js';
import { registerAnthropicRoutes } from './routes/anthropic-messages.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerModelRoutes } from './routes/models.js';
import { registerQuoteRoute } from './routes/quote.js';
import { registerTenantUsageRoute } from './routes/tenant-usage.js';
import { requestId } from './request-id.js';
import { sendStream } from './stream-response.js';
import { openaiWire, type WireFormat } from './wire-format.js';

export interface HttpServer {
  readonly app: FastifyInstance;
  readonly lifecycle: Lifecycle;
}

/**
 * The HTTP edge: the only module that knows fastify. It parses and validates, builds the call
 * context (request id, abort on disconnect, attribution), runs the gateway's pipeline and
 * renders results and errors in the route's dialect: OpenAI's wire format, or Anthropic's on
 * `/v1/messages` (server/wire-format.ts).
 */
export function createHttpServer(gateway: Gateway): HttpServer {
  return serveGateway(internalsOf(gateway));
}

/** `createHttpServer` over the gateway's parts (the bench swaps the pipeline it serves). */
export function serveGateway(gateway: InternalGateway): HttpServer {
  const { config, log } = gateway;
  const lifecycle = new Lifecycle({
    drainDelayMs: config.server.drainDelayMs,
    shutdownGraceMs: config.server.shutdownGraceMs,
    log,
  });
  /** Renders any error in a route's dialect (OpenAI's unless the route says otherwise). */
  const errorHandler =
    (wire: WireFormat) =>
    (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
      const error = fromFrameworkError(err);
      if (error.code === 'internal_error') log.error({ err, requestId: req.id }, 'unhandled error');
      // Shed calls are counted and logged once a second by the overload gate, not one line each.
      else if (!reply.sent && error.code !== 'overloaded')
        log.warn({ requestId: req.id, status: error.status, error: error.code, url: req.url }, 'request rejected');
      void reply
        .code(error.status)
        .headers({
          'x-request-id': req.id,
          ...wire.headers(req.id),
          ...errorHeaders(error),
          ...(lifecycle.accepting ? {} : { connection: 'close' }),
        })
        .send(wire.errorBody(error, req.id));
    };
  const guard = connectionGuard(config.server, log);
  const app = Fastify({
    logger: false,
    bodyLimit: config.server.bodyLimitBytes,
    ...connectionTimeoutOptions(config.server),
    clientErrorHandler: guard.clientErrorHandler,
    // Bad URL encoding and the like, answered by fastify's router before any route.
    frameworkErrors: (err, req, reply) => errorHandler(openaiWire)(err, req as FastifyRequest, reply as FastifyReply),
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    genReqId: (req: IncomingMessage) => requestId(req.headers['x-request-id']),
  });
  guard.attach(app.server);

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(
        new GatewayError(
          'invalid_json',
          `We could not parse the JSON body of your request: ${(err as Error).message}.`,
        ),
        undefined,
      );
    }
  });

  app.setErrorHandler(errorHandler(openaiWire));
  app.setNotFoundHandler((req) => {
    throw new GatewayError('not_found', `Unknown route ${req.method} ${req.url.split('?')[0]}.`);
  });

  app.addHook('onRequest', async (req) => {
    if (!lifecycle.accepting && !req.url.startsWith('/health')) {
      throw new GatewayError('shutting_down', 'The gateway is shutting down; retry on another replica.', {
        retryAfterMs: 1000,
      });
    }
  });
  // Before authentication: under overload a call is refused on its head, for the least work.
  const overload = registerOverloadGate(app, config.server, log);
  registerEdgeAuthentication(app, gateway.tenancy.authenticator);
  registerBodyGate(app, {
    bodyLimitBytes: config.server.bodyLimitBytes,
    linger: { maxBytes: config.server.lingerMaxBytes, timeoutMs: config.server.lingerTimeoutMs },
  });

  async function runCall(
    req: FastifyRequest,
    reply: FastifyReply,
    call: GatewayCall,
    wire: WireFormat = openaiWire,
  ): Promise<void> {
    const controller = new AbortController();
    const requestHeaders = wire.requestHeaders(req.headers);
    const ctx = gateway.createContext(call, {
      requestId: req.id,
      headers: requestHeaders,
      signal: controller.signal,
      principal: principalFor(req), // authenticated on the headers (edge-auth.ts); the policy checks the model
    });
    const res = reply.raw;
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort(new GatewayError('client_closed', 'client disconnected'));
    };
    res.once('close', onClose);
    lifecycle.requestStarted();
    try {
      const result = await gateway.handle(call, ctx).catch((err: unknown) => {
        void reply.headers(ctx.responseHeaders); // x-tollgate-attempts and the like, on errors too
        throw err;
      });
      const headers: Record<string, string> = {
        'x-request-id': req.id,
        ...wire.headers(req.id),
        ...(lifecycle.accepting ? {} : { connection: 'close' }),
      };
      if (result.kind === 'stream') {
        reply.hijack();
        await sendStream(res, result.batches, ctx, {
          headers,
          track: (cut) => lifecycle.trackStream(cut),
          abort: (reason) => controller.abort(reason),
          format: wire.stream(req.id),
        });
        return;
      }
      reply.headers({ ...headers, ...ctx.responseHeaders });
      if (result.kind === 'chat' && result.json !== undefined && wire.relaysJson) {
        // The upstream's answer as it came: never parsed or serialised again on the way through.
        await reply.type('application/json; charset=utf-8').send(result.json);
        return;
      }
      await reply.send(wire.body(result.response));
    } finally {
      lifecycle.requestFinished();
    }
  }

  app.post('/v1/chat/completions', async (req, reply) => {
    const request = parseChatRequest(req.body, config.requests);
    await runCall(req, reply, gateway.toCall('chat', request));
  });

  app.post('/v1/embeddings', async (req, reply) => {
    const request = parseEmbeddingRequest(req.body, config.requests);
    await runCall(req, reply, gateway.toCall('embeddings', request));
  });

  registerAnthropicRoutes(app, { gateway, runCall, errorHandler });
  registerModelRoutes(app, gateway);
  // The quote is a dry run for the caller's own key: authenticated like any /v1 call.
  registerQuoteRoute(app, gateway, { principalOf: async (req) => principalFor(req) });
  registerTenantUsageRoute(app, gateway);
  registerAdminRoutes(app, gateway);
  registerHealthRoutes(app, gateway, lifecycle, overload);
  return { app, lifecycle };
}
