import type { ChatRequest } from '../../core/types.js';

/** The request field an OpenAI-wire upstream reads the output limit from. */
export type OutputLimitField = 'max_completion_tokens' | 'max_tokens';

/**
 * OpenAI's reasoning and newer models refuse `max_tokens` ("use max_completion_tokens
 * instead"); classic OpenAI-compatible servers (vLLM, Ollama, LM Studio and most hosted
 * ones) read only `max_tokens`.
 */
const COMPLETION_TOKENS_MODELS = /^(o\d|gpt-5)/i;

/**
 * Which field carries the output limit to this upstream, per model: the provider's
 * `outputLimitField` setting when it names one; with `auto`, `max_completion_tokens` for
 * api.openai.com and for OpenAI's reasoning/new model families anywhere, `max_tokens` otherwise.
 * The upstream part is decided once, when the provider is built, not per call.
 *
 * @example outputLimitFieldFor('auto', 'http://vllm:8000/v1')('llama-3.1-8b') // → 'max_tokens'
 */
export function outputLimitFieldFor(
  setting: OutputLimitField | 'auto',
  baseUrl: string,
): (model: string) => OutputLimitField {
  if (setting !== 'auto') return () => setting;
  if (new URL(baseUrl).hostname === 'api.openai.com') return () => 'max_completion_tokens';
  return (model) => (COMPLETION_TOKENS_MODELS.test(model) ? 'max_completion_tokens' : 'max_tokens');
}

/**
 * The request with its output limit (`max_completion_tokens`, else `max_tokens`, as the
 * canonical request reads them) in `field` alone; unchanged when it sets none.
 *
 * @example withOutputLimitField({ model: 'm', messages, max_completion_tokens: 64 }, 'max_tokens')
 *   // → { model: 'm', messages, max_tokens: 64 }
 */
export function withOutputLimitField(req: ChatRequest, field: OutputLimitField): ChatRequest {
  const limit = req.max_completion_tokens ?? req.max_tokens;
  if (typeof limit !== 'number') return req;
  const { max_completion_tokens: _completion, max_tokens: _tokens, ...rest } = req;
  return { ...rest, [field]: limit };
}
