import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayCall } from '../../core/pipeline.js';
import { fromAnthropicRequest } from '../../protocols/anthropic/parse-request.js';
import type { InternalGateway } from '../../gateway.js';
import { anthropicWire } from '../anthropic-wire.js';
import type { WireFormat } from '../wire-format.js';

export interface RouteKit {
  gateway: InternalGateway;
  /** Runs a call through the pipeline and renders its result in the route's dialect. */
  runCall(req: FastifyRequest, reply: FastifyReply, call: GatewayCall, wire: WireFormat): Promise<void>;
  /** The server's error handler, rendering in the given dialect. */
  errorHandler(wire: WireFormat): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void;
}

/**
 * `POST /v1/messages`: the Anthropic Messages API in front of every configured provider. Parse
 * and validate the Anthropic request, translate it to the canonical one, run the same pipeline
 * as `/v1/chat/completions`, render the answer back in Anthropic's dialect. Errors — body
 * parsing included — use Anthropic's shape and the registry's statuses.
 *
 * @example curl localhost:4000/v1/messages -H 'x-api-key: …' -H 'content-type: application/json' \
 *   -d '{"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}'
 */
export function registerAnthropicRoutes(app: FastifyInstance, kit: RouteKit): void {
  app.route({
    method: 'POST',
    url: '/v1/messages',
    errorHandler: kit.errorHandler(anthropicWire),
    handler: async (req, reply) => {
      const request = fromAnthropicRequest(req.body, kit.gateway.config.requests);
      await kit.runCall(req, reply, kit.gateway.toCall('chat', request), anthropicWire);
    },
  });
}
