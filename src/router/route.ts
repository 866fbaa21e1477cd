import type { CallContext } from '../core/context.js';
import { toGatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult, Handler } from '../core/pipeline.js';
import { CircuitOpenError } from '../policies/breaker.js';
import type { DeploymentStates } from '../resilience/deployment-state.js';
import { DeploymentPausedError } from '../resilience/upstream-pause.js';
import { orderDeployments } from './balance.js';
import { degradedAnswer, exhaustedError, type DeploymentFailure, type StaleAnswerSource } from './degrade.js';
import { fallbackAction, fitsContext } from './fallback-rules.js';
import type { ModelRegistry } from './model-registry.js';

export interface RouteOptions {
  /** Per-deployment runtime state (breakers, load) and resolved alias settings. */
  states: DeploymentStates;
  /** Consulted first when every deployment failed (the cache's stale entries, later). */
  stale?: StaleAnswerSource | undefined;
  /** Randomness for load balancing (tests pass a seeded one). */
  random?: () => number;
}

/**
 * The terminal handler of the request pipeline: alias → an ordered list of deployments
 * (priority, then the alias's balancing strategy) → each deployment's own chain, one deployment
 * after another until one commits. It moves on only when the failure's `fallbackOn` rule says
 * so (`next`, or `larger-context`: the next deployment with a larger context window); a
 * deployment with an open circuit, or paused by its upstream's `retry-after` (`UpstreamPause`),
 * is skipped without an attempt: its chain refuses it, asked once (`policies/breaker.ts`). Everything here happens before
 * the first byte reaches the client: a stream result has already passed its first chunk.
 *
 * When every deployment failed or was skipped: a stale answer if one is found, else the alias's
 * degraded answer if configured, else `no_deployment_available` (503, retry-after) naming each
 * attempt — except for an alias with a single deployment that was tried, which keeps that
 * deployment's own error (a 429 stays a 429 with its retry-after), and for failures that are
 * all the request's fault (context length with no larger deployment left), which keep theirs.
 *
 * Sets `x-tollgate-deployment` (on success) and `x-tollgate-attempts` (always).
 */
export function routeToDeployment(models: ModelRegistry, options: RouteOptions): Handler {
  const { states, stale } = options;
  const random = options.random ?? Math.random;
  return async (call: GatewayCall, ctx: CallContext): Promise<GatewayResult> => {
    const alias = models.resolve(call.request.model, call.kind === 'embeddings' ? 'embeddings' : 'chat');
    const settings = states.alias(alias.name);
    const runtimes = alias.deployments.map((d) => states.get(d));
    const order = orderDeployments(runtimes, settings.strategy, random);
    const failures: DeploymentFailure[] = [];
    let minContext: number | null = null;
    let planned = true;
    try {
      for (const runtime of order) {
        const deployment = runtime.deployment;
        if (!fitsContext(runtime.settings.contextWindow, minContext)) continue;
        // The deployment's chain admits or skips it (policies/breaker.ts: pause, then circuit).
        const previous = ctx.record.deployment;
        ctx.record.deployment = deployment;
        try {
          const result = await runtime.handle(call, ctx);
          ctx.responseHeaders['x-tollgate-deployment'] = deployment.id;
          ctx.record.fallbackUsed = !planned;
          return result;
        } catch (err) {
          const error = toGatewayError(err);
          const skipped = error instanceof CircuitOpenError || error instanceof DeploymentPausedError;
          failures.push({ deployment: deployment.id, error, skipped });
          planned = false;
          if (skipped) ctx.record.deployment = previous;
          if (ctx.signal.aborted || error.code === 'client_closed') throw error;
          if (skipped) continue;
          const action = fallbackAction(settings.fallbackOn, error);
          if (action === 'none') throw error;
          if (action === 'larger-context' && runtime.settings.contextWindow !== undefined) {
            minContext = Math.max(minContext ?? 0, runtime.settings.contextWindow);
          }
        }
      }
      return await exhausted(call, ctx, alias.name, alias.deployments.length, failures, settings.degradedMessage);
    } finally {
      ctx.responseHeaders['x-tollgate-attempts'] = String(ctx.record.attempts.length);
    }
  };

  async function exhausted(
    call: GatewayCall,
    ctx: CallContext,
    alias: string,
    deployments: number,
    failures: DeploymentFailure[],
    degradedMessage: string | undefined,
  ): Promise<GatewayResult> {
    const tried = failures.filter((f) => !f.skipped);
    const last = tried.at(-1);
    // A single deployment keeps its own error; so does a request no deployment can take (every
    // failure not retryable, e.g. context length with no larger window): a 503 would invite a
    // pointless retry, and a degraded answer would hide the client's mistake.
    if (last && ((deployments === 1 && failures.length === 1) || tried.every((f) => !f.error.retryable))) {
      throw last.error;
    }
    const error = exhaustedError(alias, failures, ctx);
    const staleAnswer = stale ? await stale.find(call, ctx) : null;
    const degraded = staleAnswer ?? (degradedMessage ? degradedAnswer(call, alias, degradedMessage, ctx) : null);
    if (!degraded) throw error;
    ctx.log.warn(
      { alias, error: error.message, stale: staleAnswer !== null },
      'every deployment failed: serving a degraded answer',
    );
    ctx.record.deployment = null;
    ctx.record.outcome = 'degraded';
    ctx.record.error = error;
    ctx.responseHeaders['x-tollgate-degraded'] = staleAnswer ? 'stale' : 'message';
    return degraded;
  }
}
