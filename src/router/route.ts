import type { CallContext } from '../core/context.js';
import { toGatewayError } from '../core/errors.js';
import type { DeploymentHandler, GatewayCall, GatewayResult, Handler } from '../core/pipeline.js';
import type { ModelRegistry } from './model-registry.js';

/**
 * The terminal handler of the request pipeline: alias → deployment → per-deployment pipeline.
 * Records which deployment served the call and each attempt's outcome.
 * limitation: one deployment per alias is tried (the first); fallback and balancing plug in here.
 */
export function routeToDeployment(models: ModelRegistry, perDeployment: DeploymentHandler): Handler {
  return async (call: GatewayCall, ctx: CallContext): Promise<GatewayResult> => {
    const alias = models.resolve(call.request.model, call.kind === 'embeddings' ? 'embeddings' : 'chat');
    const deployment = alias.deployments[0]!;
    ctx.record.deployment = deployment;
    const started = ctx.clock.now();
    try {
      const result = await perDeployment(call, deployment, ctx);
      ctx.record.attempts.push({
        deployment: deployment.id,
        provider: deployment.provider,
        outcome: 'ok',
        status: 200,
        latencyMs: ctx.clock.now() - started,
      });
      ctx.responseHeaders['x-tollgate-deployment'] = deployment.id;
      return result;
    } catch (err) {
      const error = toGatewayError(err);
      ctx.record.attempts.push({
        deployment: deployment.id,
        provider: deployment.provider,
        outcome: error.code,
        status: error.upstreamStatus ?? error.status,
        latencyMs: ctx.clock.now() - started,
      });
      throw error;
    }
  };
}
