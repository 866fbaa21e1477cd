import type { CallContext } from '../core/context.js';
import { type GatewayError, toGatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult, Handler, Policy } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';
import { summarize, type CallObserver } from '../observability/call-summary.js';
import { isPreamble } from '../core/chunks.js';
import { estimateMissingUsage } from '../tokens/estimate-usage.js';

export interface SettleOptions {
  /** Prices the finished call (sets `record.costMicros` and `record.priceVersion`) before the observers see it. */
  price?: (call: GatewayCall, ctx: CallContext) => void;
}

/**
 * Outermost policy: sees every call end exactly once — response, error, stream completed,
 * stream cut, client gone — fills the call record and notifies the observers (ledger, access
 * log, ...). For streams it wraps the iterable; nothing is buffered.
 */
export function settle(observers: readonly CallObserver[], options: SettleOptions = {}): Policy {
  const finish = (call: GatewayCall, ctx: CallContext): void => {
    if (ctx.record.usage === null) estimateMissingUsage(call, ctx.record);
    try {
      options.price?.(call, ctx);
    } catch (err) {
      ctx.log.error({ err }, 'pricing the call failed');
    }
    const summary = summarize(ctx);
    for (const observer of observers) {
      try {
        observer(summary, ctx);
      } catch (err) {
        ctx.log.error({ err }, 'call observer failed');
      }
    }
  };

  const fail = (ctx: CallContext, err: unknown): GatewayError => {
    const error = toGatewayError(err);
    ctx.record.error = error;
    ctx.record.status = error.status;
    ctx.record.outcome = error.code === 'client_closed' ? 'aborted' : 'error';
    return error;
  };

  async function* observe(
    call: GatewayCall,
    chunks: AsyncIterable<ChatChunk>,
    ctx: CallContext,
  ): AsyncGenerator<ChatChunk> {
    const record = ctx.record;
    let completed = false;
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) record.usage = chunk.usage;
        const choice = chunk.choices[0];
        if (choice && !isPreamble(chunk)) {
          if (record.firstByteAt === null) record.firstByteAt = ctx.clock.now();
          record.chunks++;
          if (choice.delta.content) record.outputParts.push(choice.delta.content);
          if (choice.delta.tool_calls) {
            for (const t of choice.delta.tool_calls)
              if (t.function?.arguments) record.outputParts.push(t.function.arguments);
          }
        }
        yield chunk;
      }
      completed = true;
    } catch (err) {
      const error = fail(ctx, err);
      // After the first byte the client already has a 200: the stream is truncated, not failed.
      if (record.chunks > 0 && error.code !== 'client_closed') {
        record.outcome = 'truncated';
        record.status = 200;
      }
      throw error;
    } finally {
      if (!completed && record.outcome === 'ok') {
        // The consumer stopped early (client disconnected, shutdown cut it).
        record.outcome = ctx.signal.aborted ? 'aborted' : 'truncated';
        if (ctx.signal.aborted) record.status = 499;
      }
      finish(call, ctx);
    }
  }

  return {
    name: 'settle',
    wrap:
      (next: Handler): Handler =>
      async (call, ctx): Promise<GatewayResult> => {
        let result: GatewayResult;
        try {
          result = await next(call, ctx);
        } catch (err) {
          const error = fail(ctx, err);
          finish(call, ctx);
          throw error;
        }
        if (result.kind === 'stream') return { kind: 'stream', chunks: observe(call, result.chunks, ctx) };
        ctx.record.firstByteAt = ctx.clock.now();
        const usage = result.response.usage;
        ctx.record.usage = usage ? { completion_tokens: 0, ...usage } : null;
        if (!usage && result.kind === 'chat') {
          for (const choice of result.response.choices)
            if (choice.message.content) ctx.record.outputParts.push(choice.message.content);
        }
        finish(call, ctx);
        return result;
      },
  };
}
