import type { GatewayResult, Handler, Policy } from '../core/pipeline.js';
import type { ChunkBatch } from '../core/chunk-batch.js';

/**
 * Outermost: a stream whose client did not ask for usage (`stream_options.include_usage`) gets
 * no usage chunk and no `usage` keys, exactly as from OpenAI — for the HTTP server and library
 * `chatStream()` callers alike. Tollgate always asks the upstream for usage (the ledger and
 * budgets need it); the settle policy, inside this one, has already read it. Calls that asked,
 * and non-stream calls, pass straight through.
 */
export function clientUsage(): Policy {
  return {
    name: 'client-usage',
    wrap:
      (next: Handler): Handler =>
      (call, ctx) => {
        if (call.kind !== 'chat' || !call.stream || call.includeUsage) return next(call, ctx);
        return next(call, ctx).then((result): GatewayResult =>
          result.kind === 'stream' ? { kind: 'stream', batches: withoutUsage(result.batches) } : result,
        );
      },
  };
}

async function* withoutUsage(batches: AsyncIterable<ChunkBatch>): AsyncGenerator<ChunkBatch> {
  for await (const batch of batches) {
    const kept = batch.withoutUsage();
    if (kept) yield kept;
  }
}
