import type { CallContext } from './context.js';
import type { ChunkBatch } from './chunk-batch.js';
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from './types.js';

/**
 * Output tokens (per choice) a call may ask of each deployment, by deployment id: set by the
 * budget policy when a hard budget applies and the request sets no limit of its own, so the
 * upstream cannot write more than the reservation covers (`router/invoke-provider.ts` sends it).
 */
export type OutputCaps = ReadonlyMap<string, number>;

/** What the client asked for, after validation. */
export type GatewayCall =
  | { readonly kind: 'chat'; readonly request: ChatRequest; readonly stream: false; readonly outputCaps?: OutputCaps }
  | {
      readonly kind: 'chat';
      readonly request: ChatRequest;
      readonly stream: true;
      /** Whether the client asked for the final usage chunk (`stream_options.include_usage`). */
      readonly includeUsage: boolean;
      readonly outputCaps?: OutputCaps;
    }
  | { readonly kind: 'embeddings'; readonly request: EmbeddingRequest };

/**
 * What the pipeline answers: a whole response, or a stream that has passed its commit point.
 * A stream moves in batches (`ChunkBatch`: one upstream read's chunks, parsed only where a
 * stage reads them), so a stage costs one step per read, not per chunk.
 */
export type GatewayResult =
  | {
      readonly kind: 'chat';
      readonly response: ChatResponse;
      /** The upstream's JSON text of `response`, relayed as it came (`core/chat-result.ts`); absent when built here. */
      readonly json?: string;
    }
  | { readonly kind: 'stream'; readonly batches: AsyncIterable<ChunkBatch> }
  | { readonly kind: 'embeddings'; readonly response: EmbeddingResponse };

export type Handler = (call: GatewayCall, ctx: CallContext) => Promise<GatewayResult>;

/**
 * A policy wraps the next handler. Policies that must see output (settle, sanitize, cache
 * fill) wrap the stream's iterable of batches rather than buffering it.
 */
export interface Policy {
  readonly name: string;
  wrap(next: Handler): Handler;
}

/** Composes policies around a terminal handler; the first listed is the outermost. */
export const compose =
  (...policies: Policy[]) =>
  (terminal: Handler): Handler =>
    policies.reduceRight<Handler>((next, policy) => policy.wrap(next), terminal);
