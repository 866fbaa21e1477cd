import { ChunkBatch } from '../core/chunk-batch.js';
import type { CallContext } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult } from '../core/pipeline.js';
import type { ChatChunk, ChatResponse } from '../core/types.js';

/** Why one deployment did not serve the call. */
export interface DeploymentFailure {
  readonly deployment: string;
  /** The last error at this deployment (after its retries), or why it was skipped. */
  readonly error: GatewayError;
  readonly skipped: boolean;
}

/**
 * A source of stale answers for when every deployment failed: the response cache plugs in here
 * (it arrives later). Return null when there is nothing to serve.
 *
 * @example const stale: StaleAnswerSource = { find: async (call, ctx) => cache.getStale(call, ctx) };
 */
export interface StaleAnswerSource {
  find(call: GatewayCall, ctx: CallContext): Promise<GatewayResult | null>;
}

/** Fallback retry-after when no failure said how long to wait. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * The error for an alias whose every deployment failed or was skipped: 503
 * `no_deployment_available` naming the alias and each attempt's cause (each upstream attempt,
 * retries included, then each skipped deployment), with `retry-after` the soonest wait any
 * deployment asked for (an open circuit's probe time, a 429's retry-after, a remembered pause), else 1 s. Every
 * underlying error is kept as the `cause` (an AggregateError).
 */
export function exhaustedError(alias: string, failures: readonly DeploymentFailure[], ctx: CallContext): GatewayError {
  const causes = ctx.record.attempts.map(
    (a, i) => `#${i + 1} ${a.deployment}: ${a.outcome}${a.status ? ` (${a.status})` : ''}`,
  );
  for (const failure of failures) {
    if (failure.skipped)
      causes.push(`${failure.deployment}: skipped, ${failure.error.message.replace(`${failure.deployment}: `, '')}`);
  }
  const waits = failures.map((f) => f.error.retryAfterMs).filter((ms): ms is number => ms !== undefined);
  const retryAfterMs = waits.length > 0 ? Math.min(...waits) : DEFAULT_RETRY_AFTER_MS;
  return new GatewayError(
    'no_deployment_available',
    `No deployment of \`${alias}\` could serve the request: ${causes.join('; ')}.`,
    {
      retryAfterMs,
      cause: new AggregateError(
        failures.map((f) => f.error),
        `every deployment of ${alias} failed`,
      ),
    },
  );
}

/**
 * The configured degraded answer, as a chat response or a stream of the same text: marked by
 * `x-tollgate-degraded`, with zero usage (no upstream produced it).
 */
export function degradedAnswer(
  call: GatewayCall,
  alias: string,
  message: string,
  ctx: CallContext,
): GatewayResult | null {
  if (call.kind !== 'chat') return null;
  const id = `chatcmpl-degraded-${ctx.callId}`;
  const created = Math.floor(ctx.clock.wallNow() / 1000);
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  if (!call.stream) {
    const response: ChatResponse = {
      id,
      object: 'chat.completion',
      created,
      model: alias,
      choices: [{ index: 0, message: { role: 'assistant', content: message }, finish_reason: 'stop', logprobs: null }],
      usage,
    };
    return { kind: 'chat', response };
  }
  const chunk = (choices: ChatChunk['choices'], extra: Partial<ChatChunk> = {}): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: alias,
    choices,
    ...extra,
  });
  const chunks: ChatChunk[] = [
    chunk([{ index: 0, delta: { role: 'assistant', content: message }, finish_reason: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
    chunk([], { usage }),
  ];
  return { kind: 'stream', batches: fromArray([ChunkBatch.of(chunks)]) };
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
