import type { OpenAIProviderConfig } from '../schema.js';
import type { CallContext } from '../../core/context.js';
import { GatewayError } from '../../core/errors.js';
import { relayedChat } from '../../core/chat-result.js';
import { ChunkBatch } from '../../core/chunk-batch.js';
import { hasKey, isJsonObjectText } from '../../core/json-scan.js';
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from '../../core/types.js';
import { mapTransportError } from '../http/map-upstream-error.js';
import { readSse } from '../http/read-sse.js';
import { createJsonPost } from '../http/post-json.js';
import { providerSecrets, secretRedactor } from '../http/redact-secrets.js';
import type { UpstreamReply } from '../http/upstream-exchange.js';
import { createUpstreamPool } from '../http/upstream-pool.js';
import type { Provider } from '../types.js';
import { outputLimitFieldFor, withOutputLimitField } from './output-limit.js';

/**
 * The OpenAI wire format: api.openai.com and everything that speaks it (vLLM, Ollama, Groq,
 * Together, LM Studio, Azure-style endpoints behind a base URL).
 */
export function createOpenAIProvider(id: string, config: OpenAIProviderConfig): Provider {
  const upstream = createUpstreamPool(config.baseUrl, config.timeouts, config.connections);
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'tollgate/0.1',
    ...config.headers,
  };
  if (config.apiKey) baseHeaders.authorization = `Bearer ${config.apiKey.reveal()}`;
  const redact = secretRedactor(providerSecrets(config));
  const post = createJsonPost(id, upstream, baseHeaders, config.forwardHeaders, redact);
  /** The request as this upstream reads it: the output limit in the field it knows. */
  const limitField = outputLimitFieldFor(config.outputLimitField, config.baseUrl);
  const toWire = (req: ChatRequest): ChatRequest => withOutputLimitField(req, limitField(req.model));

  async function readText(response: UpstreamReply, ctx: CallContext): Promise<string> {
    try {
      return await response.text();
    } catch (err) {
      throw mapTransportError(id, err, ctx.signal);
    }
  }

  const malformed = (response: UpstreamReply, text: string): GatewayError =>
    new GatewayError('upstream_error', `${id}: upstream sent malformed JSON (${text.length} bytes)`, {
      upstreamStatus: response.statusCode,
    });

  async function readJson<T>(response: UpstreamReply, ctx: CallContext): Promise<T> {
    const text = await readText(response, ctx);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw malformed(response, text);
    }
  }

  /** The answer as the upstream's text, checked to be a whole object (`Provider.chatJson`). */
  async function chatJson(req: ChatRequest, ctx: CallContext): Promise<string> {
    const response = await post(
      '/chat/completions',
      () => {
        const { stream_options: _ignored, ...rest } = toWire(req);
        return { ...rest, stream: false };
      },
      ctx,
    );
    const text = await readText(response, ctx);
    if (!isJsonObjectText(text)) throw malformed(response, text);
    return text;
  }

  return {
    id,
    kind: 'openai',
    chatJson,

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      return relayedChat(await chatJson(req, ctx), id).response;
    },

    async chatStream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChunkBatch>> {
      // Always ask for usage: the ledger needs it. The client-usage policy removes it when the client did not ask.
      const response = await post(
        '/chat/completions',
        () => ({ ...toWire(req), stream: true, stream_options: { ...req.stream_options, include_usage: true } }),
        ctx,
      );
      return iterateChunks(id, response, ctx, redact);
    },

    async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const response = await post('/embeddings', () => req, ctx);
      return readJson<EmbeddingResponse>(response, ctx);
    },

    async close(): Promise<void> {
      await upstream.pool.close();
    },
  };
}

/**
 * The upstream's events as batches, one per network read, each chunk kept as the JSON text it
 * arrived as (see `ChunkBatch`): a frame is parsed here only when it carries an `error` key
 * (an in-band error), and checked to be a whole JSON object, so a frame cut short fails the
 * stream instead of reaching the client.
 */
async function* iterateChunks(
  id: string,
  response: UpstreamReply,
  ctx: CallContext,
  redact: (text: string) => string,
): AsyncGenerator<ChunkBatch> {
  let done = false;
  try {
    for await (const events of readSse(response, (e) => e.data === '[DONE]')) {
      const texts: string[] = [];
      let fault: GatewayError | null = null;
      for (const event of events) {
        const data = event.data;
        if (data === '[DONE]') {
          done = true;
          break;
        }
        fault = isJsonObjectText(data)
          ? hasKey(data, '"error"')
            ? inBandError(id, data, redact)
            : null
          : new GatewayError('upstream_error', `${id}: upstream sent a malformed stream event`);
        if (fault) break;
        texts.push(data);
      }
      // The chunks before a fault reach the client; then the stream fails.
      if (texts.length > 0) yield ChunkBatch.fromJson(texts);
      if (fault) throw fault;
      if (done) return;
    }
  } catch (err) {
    throw mapTransportError(id, err, ctx.signal);
  }
  if (!done) throw new GatewayError('upstream_error', `${id}: upstream stream ended before [DONE]`);
}

/** The in-band error a frame carries, or null when its `error` key is empty (null). */
function inBandError(id: string, data: string, redact: (text: string) => string): GatewayError | null {
  let parsed: { error?: { message?: string; code?: string } | null };
  try {
    parsed = JSON.parse(data) as typeof parsed;
  } catch {
    return new GatewayError('upstream_error', `${id}: upstream sent a malformed stream event`);
  }
  if (!parsed.error) return null;
  // An in-band error is a server error: the client gets a fixed message, the log the redacted text.
  return new GatewayError('upstream_error', `${id}: upstream stream error`, {
    upstreamStatus: 200,
    upstreamMessage: redact(parsed.error.message ?? 'unknown'),
    ...(parsed.error.code ? { wireCode: parsed.error.code } : {}),
  });
}
