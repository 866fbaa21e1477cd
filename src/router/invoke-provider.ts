import type { CallContext } from '../core/context.js';
import { relayedChat } from '../core/chat-result.js';
import { GatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult, Handler } from '../core/pipeline.js';
import type { ChatRequest, Deployment, EmbeddingRequest } from '../core/types.js';
import type { Provider } from '../providers/types.js';

/** Builds the upstream request: deployment defaults under the client's fields, overrides over them, the upstream model name. */
export function requestFor<T extends ChatRequest | EmbeddingRequest>(request: T, deployment: Deployment): T {
  return { ...deployment.params, ...request, ...deployment.override, model: deployment.model };
}

/** Whether a chat request sets an output limit of its own (either field). */
export function hasOutputLimit(request: ChatRequest): boolean {
  return typeof request.max_completion_tokens === 'number' || typeof request.max_tokens === 'number';
}

/**
 * The upstream request with the call's output cap for this deployment, when it has one and the
 * request (client, deployment params and overrides merged) sets no limit. The cap goes in the
 * canonical field, `max_completion_tokens`; each provider sends it in the field its upstream
 * reads (the openai adapter's `outputLimitField`, Anthropic's `max_tokens`).
 */
export function withOutputCap(request: ChatRequest, cap: number | undefined): ChatRequest {
  if (cap === undefined || hasOutputLimit(request)) return request;
  return { ...request, max_completion_tokens: cap };
}

/**
 * The innermost handler of a deployment's chain: calls its provider. Its result is the upstream's
 * commit point (for a stream: headers accepted, chunks not yet read).
 */
export function invokeProvider(provider: Provider, deployment: Deployment): Handler {
  return async (call: GatewayCall, ctx: CallContext): Promise<GatewayResult> => {
    switch (call.kind) {
      case 'chat': {
        const request = withOutputCap(requestFor(call.request, deployment), call.outputCaps?.get(deployment.id));
        if (call.stream) return { kind: 'stream', batches: await provider.chatStream(request, ctx) };
        // An OpenAI-wire upstream's answer stays its bytes until something reads it.
        if (provider.chatJson) return relayedChat(await provider.chatJson(request, ctx), provider.id);
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
