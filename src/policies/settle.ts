import type { CallContext } from '../core/context.js';
import { type GatewayError, toGatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult, Handler, Policy } from '../core/pipeline.js';
import type { ChunkBatch } from '../core/chunk-batch.js';
import { chatUsage } from '../core/chat-result.js';
import { summarize, type CallObserver } from '../observability/call-summary.js';
import { estimateMissingUsage } from '../tokens/estimate-usage.js';

export interface SettleOptions {
  /** Prices the finished call (sets `record.costMicros` and `record.priceVersion`) before the observers see it. */
  price?: (call: GatewayCall, ctx: CallContext) => void;
}

/** The streamed text of `batches` into `parts`, for a local count; a frame that is not JSON counts nothing. */
function readText(batches: readonly ChunkBatch[], parts: string[]): void {
  for (const batch of batches) {
    for (let i = 0; i < batch.size; i++) {
      try {
        batch.textOf(i, parts);
      } catch {
        // malformed: already the stream's error if a stage read it; nothing to count
      }
    }
  }
}

/** What a whole answer tells the record: its usage, else its text (to count locally; parses a relayed answer). */
function answered(result: Exclude<GatewayResult, { kind: 'stream' }>, record: CallContext['record']): void {
  const usage = result.kind === 'chat' ? chatUsage(result) : result.response.usage;
  record.usage = usage ? { completion_tokens: 0, ...usage } : null;
  if (usage || result.kind !== 'chat') return;
  for (const choice of result.response.choices ?? [])
    if (choice.message?.content) record.outputParts.push(choice.message.content);
}

/** Characters of unparsed stream text kept for a local token count before it is read as it comes. */
const KEEP_CHARS = 1 << 20;

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
    batches: AsyncIterable<ChunkBatch>,
    ctx: CallContext,
  ): AsyncGenerator<ChunkBatch> {
    const record = ctx.record;
    // The streamed text is read only if the upstream reports no usage (to count it locally), so
    // the batches are kept unparsed until the end; past KEEP_CHARS they are read as they come.
    const kept: ChunkBatch[] = [];
    let keptChars = 0;
    let completed = false;
    try {
      for await (const batch of batches) {
        const usage = batch.usage();
        if (usage) record.usage = usage;
        // Batches arrive after the commit point (the first holds the first real chunk).
        if (record.firstByteAt === null) record.firstByteAt = ctx.clock.now();
        record.chunks += batch.size;
        if (record.usage === null) {
          kept.push(batch);
          keptChars += batch.textLength();
          if (keptChars > KEEP_CHARS) {
            readText(kept.splice(0), record.outputParts);
            keptChars = 0;
          }
        }
        yield batch;
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
      if (record.usage === null) readText(kept, record.outputParts);
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
          if (result.kind === 'stream') return { kind: 'stream', batches: observe(call, result.batches, ctx) };
          ctx.record.firstByteAt = ctx.clock.now();
          answered(result, ctx.record);
        } catch (err) {
          // The call failed, or its answer could not be read (a relayed body broken inside its braces).
          const error = fail(ctx, err);
          finish(call, ctx);
          throw error;
        }
        finish(call, ctx);
        return result;
      },
  };
}
