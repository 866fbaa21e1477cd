import type { GatewayResult, Handler, Policy } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';

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
          result.kind === 'stream' ? { kind: 'stream', chunks: withoutUsage(result.chunks) } : result,
        );
      },
  };
}

async function* withoutUsage(chunks: AsyncIterable<ChatChunk>): AsyncGenerator<ChatChunk> {
  for await (const chunk of chunks) {
    if (chunk.usage === undefined) {
      yield chunk;
      continue;
    }
    if (chunk.choices.length === 0) continue; // the usage chunk itself
    chunk.usage = undefined;
    yield chunk;
  }
}
