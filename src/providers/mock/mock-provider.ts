import type { MockProviderConfig } from '../schema.js';
import type { Clock } from '../../core/clock.js';
import type { CallContext } from '../../core/context.js';
import { ChunkBatch } from '../../core/chunk-batch.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from '../../core/types.js';
import { mapTransportError, mapUpstreamHttpError } from '../http/map-upstream-error.js';
import type { Provider } from '../types.js';
import { generateEmbeddings } from '../../mock/mock-embeddings.js';
import { generateChatReply, toChatChunks, toChatResponse, type MockReply } from '../../mock/mock-engine.js';
import { injectedErrorBody, invalidRequestBody, retryAfterHeaders } from '../../mock/mock-error-body.js';
import { createFaultPlanner, MockHeaderError, type MockPlan } from '../../mock/mock-faults.js';
import { validateChatRequest, validateEmbeddingRequest, type MockInvalid } from '../../mock/mock-validate.js';

/**
 * The mock as an in-process provider: the engine's answers with the scenario's timing and
 * faults, failing with exactly the GatewayErrors the openai provider raises for the same wire
 * behaviour (both go through providers/http/map-upstream-error.ts). Faults and timing can be
 * set per request with `x-mock-*` headers on the incoming request (`ctx.headers`).
 *
 * Like the openai provider, `chatStream` always produces the usage chunk; the client-usage
 * policy removes it when the client did not ask for it.
 *
 * @example const mock = createMockProvider('mock', providerSchema.parse({ type: 'mock' }) as MockProviderConfig);
 *   const res = await mock.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, ctx);
 */
export function createMockProvider(id: string, config: MockProviderConfig, clock?: Clock): Provider {
  const planner = createFaultPlanner(config.seed, config.scenario);

  /** Everything before the commit point: plan, latency, and the faults that strike before an answer. */
  async function begin(ctx: CallContext, stream: boolean, invalid: MockInvalid | null): Promise<MockPlan> {
    let plan: MockPlan;
    try {
      plan = planner.plan(ctx.headers, stream);
    } catch (err) {
      if (!(err instanceof MockHeaderError)) throw err;
      throw mapUpstreamHttpError(id, 400, JSON.stringify(invalidRequestBody(err.message, err.param)), {});
    }
    const waiter = wait(id, clock ?? ctx.clock, ctx.signal);
    if (plan.fault?.kind === 'hang') await waiter.forever();
    await waiter.sleep(plan.latencyMs);
    if (invalid)
      throw mapUpstreamHttpError(id, 400, JSON.stringify(invalidRequestBody(invalid.message, invalid.param)), {});
    const fault = plan.fault;
    if (fault?.kind === 'error') {
      const body = JSON.stringify(injectedErrorBody(fault.status));
      throw mapUpstreamHttpError(id, fault.status, body, retryAfterHeaders(fault.retryAfterS));
    }
    if (fault?.kind === 'reset') throw mapTransportError(id, socketError('ECONNRESET', 'socket hang up'), ctx.signal);
    if (fault?.kind === 'malformed' && !stream) {
      throw new GatewayError('upstream_error', `${id}: upstream sent malformed JSON (injected)`, {
        upstreamStatus: 200,
      });
    }
    return plan;
  }

  const replyOptions = (plan: MockPlan) => ({
    seed: config.seed,
    completionTokens: plan.completionTokens,
    ignoreOutputLimit: plan.ignoreOutputLimit,
  });
  const created = (ctx: CallContext): number => Math.floor((clock ?? ctx.clock).wallNow() / 1000);

  return {
    id,
    kind: 'mock',

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      // As the openai provider does, a non-stream call drops stream_options rather than fail on it.
      const plan = await begin(ctx, false, validateChatRequest({ ...req, stream: false, stream_options: undefined }));
      const options = { ...replyOptions(plan), created: created(ctx) };
      return toChatResponse(await generateChatReply(req, options));
    },

    async chatStream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChunkBatch>> {
      const plan = await begin(ctx, true, validateChatRequest({ ...req, stream: true }));
      const options = { ...replyOptions(plan), created: created(ctx) };
      const reply = await generateChatReply(req, options);
      return streamChunks(id, reply, plan, wait(id, clock ?? ctx.clock, ctx.signal), ctx.signal);
    },

    async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      await begin(ctx, false, validateEmbeddingRequest(req));
      return generateEmbeddings(req, config.seed);
    },
  };
}

async function* streamChunks(
  id: string,
  reply: MockReply,
  plan: MockPlan,
  waiter: Waiter,
  signal: AbortSignal,
): AsyncGenerator<ChunkBatch> {
  const chunks = toChatChunks(reply, true);
  const fault = plan.fault;
  // Chunk 0 is the role chunk; stream faults strike after `after` content chunks.
  const strikeAt =
    fault && 'after' in fault ? 1 + Math.min(fault.after, reply.pieces.length) : fault?.kind === 'malformed' ? 1 : -1;
  await waiter.sleep(plan.ttftMs);
  for (const [index, chunk] of chunks.entries()) {
    if (index > 0) await waiter.sleep(plan.chunkDelayMs);
    if (signal.aborted) throw mapTransportError(id, signal.reason, signal);
    if (index === strikeAt && fault) {
      if (fault.kind === 'stall') await waiter.forever();
      if (fault.kind === 'cut') throw mapTransportError(id, socketError('UND_ERR_SOCKET', 'other side closed'), signal);
      if (fault.kind === 'malformed')
        throw new GatewayError('upstream_error', `${id}: upstream sent a malformed stream event`);
      if (fault.kind === 'error_event') {
        const { error } = injectedErrorBody(fault.status);
        throw new GatewayError('upstream_error', `${id}: upstream stream error: ${error.message}`, {
          upstreamStatus: 200,
          ...(error.code ? { wireCode: error.code } : {}),
        });
      }
    }
    yield ChunkBatch.of([chunk]); // one chunk at a time: the scenario paces each
  }
}

interface Waiter {
  /** Sleeps `ms` on the clock (not at all for 0); an abort becomes the GatewayError the openai provider throws. */
  sleep(ms: number): Promise<void>;
  /** Never resolves; rejects once the signal aborts (a hung or stalled upstream). */
  forever(): Promise<never>;
}

function wait(id: string, clock: Clock, signal: AbortSignal): Waiter {
  const aborted = (err: unknown): GatewayError => mapTransportError(id, err, signal);
  return {
    async sleep(ms) {
      if (ms <= 0) return;
      try {
        await clock.sleep(ms, signal);
      } catch (err) {
        throw aborted(err);
      }
    },
    forever: () =>
      new Promise<never>((_resolve, reject) => {
        if (signal.aborted) reject(aborted(signal.reason));
        else signal.addEventListener('abort', () => reject(aborted(signal.reason)), { once: true });
      }),
  };
}

function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
