import type { AnthropicProviderConfig } from '../schema.js';
import type { CallContext } from '../../core/context.js';
import { GatewayError } from '../../core/errors.js';
import { ChunkBatch } from '../../core/chunk-batch.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/types.js';
import { toAnthropicRequest } from '../../protocols/anthropic/convert-request.js';
import { fromAnthropicMessage } from '../../protocols/anthropic/convert-response.js';
import { createStreamDecoder } from '../../protocols/anthropic/convert-stream.js';
import { statusForErrorType } from '../../protocols/anthropic/map-error.js';
import type { AnthropicMessage, AnthropicStreamEvent } from '../../protocols/anthropic/wire.js';
import { mapTransportError, mapUpstreamHttpError } from '../http/map-upstream-error.js';
import { readSse } from '../http/read-sse.js';
import { createJsonPost } from '../http/post-json.js';
import { providerSecrets, secretRedactor } from '../http/redact-secrets.js';
import type { UpstreamReply } from '../http/upstream-exchange.js';
import { createUpstreamPool } from '../http/upstream-pool.js';
import type { Provider } from '../types.js';

/**
 * The Anthropic Messages API (`POST <baseUrl>/v1/messages`), on the same undici pool and error
 * classifier as the openai provider. Translation lives in `protocols/anthropic/`; this module
 * only moves bytes: the key goes as `x-api-key`, the configured `anthropic-version` with it.
 * Streams end honestly: an `error` event, or a body that ends before `message_stop`, comes out
 * of the iterator as a GatewayError. Anthropic has no embeddings API, so there is no `embed`
 * (the router answers a 400 naming the provider).
 *
 * @example const claude = createAnthropicProvider('claude', providerSchema.parse({ type: 'anthropic',
 *   apiKey: process.env.ANTHROPIC_API_KEY }) as AnthropicProviderConfig);
 *   const reply = await claude.chat({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }, ctx);
 */
export function createAnthropicProvider(id: string, config: AnthropicProviderConfig): Provider {
  const upstream = createUpstreamPool(config.baseUrl, config.timeouts, config.connections);
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'tollgate/0.1',
    'anthropic-version': config.version,
    ...config.headers,
  };
  if (config.apiKey) baseHeaders['x-api-key'] = config.apiKey.reveal();
  const options = { defaultMaxTokens: config.defaultMaxTokens };

  const redact = secretRedactor(providerSecrets(config));
  const postJson = createJsonPost(id, upstream, baseHeaders, config.forwardHeaders, redact);
  const post = (build: () => unknown, ctx: CallContext) => postJson('/v1/messages', build, ctx);

  const created = (ctx: CallContext): number => Math.floor(ctx.clock.wallNow() / 1000);

  return {
    id,
    kind: 'anthropic',

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      const response = await post(() => toAnthropicRequest(req, options), ctx);
      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        throw mapTransportError(id, err, ctx.signal);
      }
      let message: AnthropicMessage;
      try {
        message = JSON.parse(text) as AnthropicMessage;
      } catch {
        throw new GatewayError('upstream_error', `${id}: upstream sent malformed JSON (${text.length} bytes)`, {
          upstreamStatus: response.statusCode,
        });
      }
      if (message?.type !== 'message' || !Array.isArray(message.content)) {
        throw new GatewayError('upstream_error', `${id}: upstream sent something other than a message`, {
          upstreamStatus: response.statusCode,
        });
      }
      return fromAnthropicMessage(message, created(ctx));
    },

    async chatStream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChunkBatch>> {
      const response = await post(() => ({ ...toAnthropicRequest(req, options), stream: true }), ctx);
      return iterateEvents(id, response, ctx, created(ctx), redact);
    },

    async close(): Promise<void> {
      await upstream.pool.close();
    },
  };
}

async function* iterateEvents(
  id: string,
  response: UpstreamReply,
  ctx: CallContext,
  created: number,
  redact: (text: string) => string,
): AsyncGenerator<ChunkBatch> {
  const decoder = createStreamDecoder(created);
  try {
    for await (const events of readSse(response, (e) => e.event === 'message_stop')) {
      const chunks: ChatChunk[] = [];
      let fault: GatewayError | null = null;
      for (const sse of events) {
        let event: AnthropicStreamEvent;
        try {
          event = JSON.parse(sse.data) as AnthropicStreamEvent;
        } catch {
          fault = new GatewayError(
            'upstream_error',
            `${id}: upstream sent a malformed stream event (${sse.event ?? 'data'})`,
          );
          break;
        }
        if (event.type === 'error') {
          fault = mapUpstreamHttpError(
            id,
            statusForErrorType(event.error?.type),
            sse.data,
            {},
            { inBand: true, redact },
          );
          break;
        }
        // Events after message_stop (there should be none) are read and ignored, so the connection is reused.
        if (!decoder.done) chunks.push(...decoder.push(event));
      }
      // The chunks before a fault reach the client; then the stream fails.
      if (chunks.length > 0) yield ChunkBatch.of(chunks);
      if (fault) throw fault;
    }
  } catch (err) {
    throw mapTransportError(id, err, ctx.signal);
  }
  if (!decoder.done) throw new GatewayError('upstream_error', `${id}: upstream stream ended before message_stop`);
}
