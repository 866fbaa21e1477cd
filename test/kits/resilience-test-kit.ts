import pino from 'pino';
import { ChunkBatch, chunksOf } from '../../src/core/chunk-batch.js';
import { configSchema, type ConfigInput } from '../../src/config/schema.js';
import { FakeClock } from '../../src/core/clock.js';
import { ANONYMOUS, newCallRecord, type CallContext } from '../../src/core/context.js';
import type { GatewayCall, GatewayResult, Handler } from '../../src/core/pipeline.js';
import type { ChatChunk, Deployment } from '../../src/core/types.js';
import { createRandom } from '../../src/mock/mock-random.js';
import { ModelRegistry } from '../../src/router/model-registry.js';
import { deploymentChain } from '../../src/router/deployment-chain.js';
import { DeploymentStates } from '../../src/resilience/deployment-state.js';

/**
 * Helpers for the resilience unit tests: a FakeClock context, runtime states built from a small
 * config, scripted upstream handlers and canned results. Test-only.
 */

export const silent = pino({ level: 'silent' });

export interface TestContext {
  ctx: CallContext;
  clock: FakeClock;
  abort: (reason?: unknown) => void;
}

export function fakeContext(clock = new FakeClock(), alias = 'chat', stream = false): TestContext {
  const controller = new AbortController();
  const ctx: CallContext = {
    requestId: 'req_test',
    callId: 'call_test',
    principal: ANONYMOUS,
    signal: controller.signal,
    log: silent,
    clock,
    startedAt: clock.now(),
    startedAtWall: clock.wallNow(),
    headers: {},
    record: newCallRecord(alias, stream),
    responseHeaders: {},
  };
  return { ctx, clock, abort: (reason) => controller.abort(reason) };
}

/** Runtime states for `models` (each deployment on the in-process mock provider unless it names another). */
export function testStates(
  models: ConfigInput['models'],
  clock: FakeClock,
  extra: Partial<ConfigInput> = {},
): { states: DeploymentStates; registry: ModelRegistry; deployments: (alias: string) => readonly Deployment[] } {
  const config = configSchema.parse({
    providers: { mock: { type: 'mock' }, other: { type: 'mock' } },
    models,
    ...extra,
  });
  const registry = new ModelRegistry(config.models);
  const states = new DeploymentStates(config, registry, clock, silent);
  return { states, registry, deployments: (alias) => registry.resolve(alias, 'chat').deployments };
}

export const chatCall = (model = 'chat'): GatewayCall => ({
  kind: 'chat',
  request: { model, messages: [{ role: 'user', content: 'hello' }] },
  stream: false,
});

export const streamCall = (model = 'chat'): GatewayCall => ({
  kind: 'chat',
  request: { model, messages: [{ role: 'user', content: 'hello' }] },
  stream: true,
  includeUsage: false,
});

export const okChat = (content = 'hi'): GatewayResult => ({
  kind: 'chat',
  response: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
});

export const chunk = (delta: ChatChunk['choices'][number]['delta'], finish: 'stop' | null = null): ChatChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

export type Step = GatewayResult | Error | ((ctx: CallContext) => Promise<GatewayResult>);

/**
 * A handler that plays `steps` in order, one per call (the last repeats), and remembers each
 * call's deployment and the clock time it started.
 */
export function scripted(steps: Step[]): Upstream & { calls: { deployment: string; at: number }[] } {
  const calls: { deployment: string; at: number }[] = [];
  const handler = async (_call: GatewayCall, deployment: Deployment, ctx: CallContext): Promise<GatewayResult> => {
    const step = steps[Math.min(calls.length, steps.length - 1)]!;
    calls.push({ deployment: deployment.id, at: ctx.clock.now() });
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step(ctx);
    return step;
  };
  return Object.assign(handler, { calls });
}

/** A stream result from chunks (one batch each) and an optional failure after them; `delays` sleeps on the clock before each. */
export function streamOf(
  chunks: ChatChunk[],
  options: { failWith?: Error; delays?: number[] } = {},
): (ctx: CallContext) => Promise<GatewayResult> {
  return async (ctx) => {
    async function* generate(): AsyncGenerator<ChunkBatch> {
      for (const [i, c] of chunks.entries()) {
        const delay = options.delays?.[i] ?? 0;
        if (delay > 0) await ctx.clock.sleep(delay, ctx.signal);
        yield ChunkBatch.of([c]);
      }
      if (options.failWith) throw options.failWith;
    }
    return { kind: 'stream', batches: generate() };
  };
}

export async function drain(result: GatewayResult): Promise<ChatChunk[]> {
  if (result.kind !== 'stream') throw new Error(`expected a stream, got ${result.kind}`);
  const out: ChatChunk[] = [];
  for await (const c of chunksOf(result.batches)) out.push(c);
  return out;
}

/** Reports whether a promise has settled yet, without awaiting it. */
export function watch(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => settled;
}

/** A seeded uniform [0, 1) source. */
export function seeded(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

/** One script per deployment id (see `scripted`), with all calls in one list. */
export function byDeployment(
  scripts: Record<string, Step[]>,
): Upstream & { calls: { deployment: string; at: number }[] } {
  const handlers = new Map(Object.entries(scripts).map(([id, steps]) => [id, scripted(steps)]));
  const calls: { deployment: string; at: number }[] = [];
  const handler: Upstream = async (call, deployment, ctx) => {
    const script = handlers.get(deployment.id);
    if (!script) throw new Error(`no script for ${deployment.id}`);
    calls.push({ deployment: deployment.id, at: ctx.clock.now() });
    return script(call, deployment, ctx);
  };
  return Object.assign(handler, { calls });
}

/** A stand-in upstream that knows which deployment it serves (`scripted`, a test's own). */
export type Upstream = (call: GatewayCall, deployment: Deployment, ctx: CallContext) => Promise<GatewayResult>;

/** `upstream` bound to one deployment: the terminal handler of that deployment's chain. */
export const serving =
  (upstream: Upstream, deployment: Deployment): Handler =>
  (call, ctx) =>
    upstream(call, deployment, ctx);

/** Gives every deployment of `states` the production chain (`deploymentChain`) around `upstream`. */
export function chainAll(states: DeploymentStates, upstream: Upstream): void {
  states.buildChains((runtime) => deploymentChain(runtime, serving(upstream, runtime.deployment)));
}
