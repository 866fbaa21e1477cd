import type { FastifyInstance, FastifyRequest } from 'fastify';
import { quoteCall } from '../../budgets/quote.js';
import { ANONYMOUS, type Principal } from '../../core/context.js';
import { parseChatRequest, parseEmbeddingRequest } from '../../core/validate-request.js';
import type { InternalGateway } from '../../gateway.js';

export interface QuoteRouteOptions {
  /** Who is asking (the virtual key's principal); anonymous when keys are not in use. */
  principalOf?: (req: FastifyRequest) => Promise<Principal>;
}

/**
 * `POST /v1/tollgate/quote`: a dry run. The body is a chat completion request (or an embeddings
 * request, with `input`); the answer is its tokens, the most it can cost, the budgets and limits
 * that would apply and admit / deny / downgrade. Nothing is reserved or spent, and nothing is
 * sent upstream.
 */
export function registerQuoteRoute(
  app: FastifyInstance,
  gateway: InternalGateway,
  options: QuoteRouteOptions = {},
): void {
  app.post('/v1/tollgate/quote', async (req, reply) => {
    const body = req.body as Record<string, unknown> | null;
    const isEmbeddings = body !== null && typeof body === 'object' && 'input' in body && !('messages' in body);
    const call = isEmbeddings
      ? gateway.toCall('embeddings', parseEmbeddingRequest(body, gateway.config.requests))
      : gateway.toCall('chat', parseChatRequest(body, gateway.config.requests));
    const principal = options.principalOf ? await options.principalOf(req) : ANONYMOUS;
    const ctx = gateway.createContext(call, { requestId: req.id, headers: req.headers });
    const quote = await quoteCall(call, { principal, feature: ctx.record.feature }, gateway.models, gateway.costs);
    reply.header('x-request-id', req.id);
    return quote;
  });
}
