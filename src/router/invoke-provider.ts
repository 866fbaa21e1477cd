import type { CallContext } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import type { DeploymentHandler, GatewayCall, GatewayResult } from '../core/pipeline.js';
import type { ChatRequest, Deployment, EmbeddingRequest } from '../core/types.js';
import type { Provider } from '../providers/types.js';

/** Builds the upstream request: deployment defaults under the client's fields, overrides over them, the upstream model name. */
export function requestFor<T extends ChatRequest | EmbeddingRequest>(request: T, deployment: Deployment): T {
  return { ...deployment.params, ...request, ...deployment.override, model: deployment.model };
}

/**
 * The innermost handler of the per-deployment pipeline: calls the provider. Its result is the
 * upstream's commit point (for a stream: headers accepted, chunks not yet read).
 */
export function invokeProvider(providers: ReadonlyMap<string, Provider>): DeploymentHandler {
  return async (call: GatewayCall, deployment: Deployment, ctx: CallContext): Promise<GatewayResult> => {
    const provider = providers.get(deployment.provider);
    if (!provider)
      throw new GatewayError(
        'internal_error',
        `deployment ${deployment.id} names unknown provider ${deployment.provider}`,
      );
    switch (call.kind) {
      case 'chat': {
        const request = requestFor(call.request, deployment);
        if (call.stream) return { kind: 'stream', chunks: await provider.chatStream(request, ctx) };
        return { kind: 'chat', response: await provider.chat(request, ctx) };
      }
      case 'embeddings': {
        if (!provider.embed) {
          throw new GatewayError(
            'invalid_request',
            `provider ${provider.id} (${provider.kind}) does not serve embeddings`,
            { param: 'model' },
          );
        }
        return { kind: 'embeddings', response: await provider.embed(requestFor(call.request, deployment), ctx) };
      }
    }
  };
}
