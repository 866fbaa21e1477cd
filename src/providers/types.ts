import type { CallContext } from '../core/context.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from '../core/types.js';

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
   * Resolves once the upstream accepted the call (2xx, headers read): the commit point.
   * Retry and fallback may act before it; errors after it come out of the iterator as
   * GatewayErrors. Breaking out of the iteration releases the upstream connection.
   */
  chatStream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatChunk>>;
  embed?(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}
