import type { CallContext } from '../core/context.js';
import type { ChunkBatch } from '../core/chunk-batch.js';
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from '../core/types.js';

/**
 * An upstream adapter. It receives the canonical request with `model` already set to the
 * upstream's model name, and translates to and from its wire format. It never sees the HTTP
 * framework.
 */
export interface Provider {
  /** The configured instance id (`providers.<id>`). */
  readonly id: string;
  /** The adapter kind (`openai`, `mock`, `anthropic`, ...), also the OTel `gen_ai.provider.name`. */
  readonly kind: string;
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse>;
  /**
   * For adapters whose upstream speaks the canonical (OpenAI) wire: the answer as the upstream's
   * JSON text, checked to be a whole object but not parsed, so it can be relayed as bytes
   * (`core/chat-result.ts`). The router prefers it to `chat` when present.
   */
  chatJson?(req: ChatRequest, ctx: CallContext): Promise<string>;
  /**
   * Resolves once the upstream accepted the call (2xx, headers read): the commit point.
   * Retry and fallback may act before it; errors after it come out of the iterator as
   * GatewayErrors. Breaking out of the iteration releases the upstream connection. The stream
   * moves in batches (`ChunkBatch`), ideally one per upstream read.
   */
  chatStream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChunkBatch>>;
  embed?(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}
