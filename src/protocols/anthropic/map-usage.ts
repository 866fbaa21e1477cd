import type { Usage } from '../../core/types.js';
import type { AnthropicDeltaUsage, AnthropicUsage } from './wire.js';

/**
 * Anthropic usage as OpenAI usage. Anthropic's `input_tokens` excludes the tokens read from and
 * written to the prompt cache; OpenAI's `prompt_tokens` includes cached ones. So
 * `prompt_tokens = input + cache read + cache write`, which keeps totals comparable across
 * providers; the two cache figures are kept in `prompt_tokens_details` (`cached_tokens`,
 * `cache_write_tokens`) so cost can price them apart.
 *
 * @example toUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90 })
 *   // → { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105,
 *   //     prompt_tokens_details: { cached_tokens: 90, cache_write_tokens: 0 } }
 */
export function toUsage(usage: AnthropicUsage | AnthropicDeltaUsage): Usage {
  const input = usage.input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const prompt = input + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_write_tokens: cacheWrite },
  };
}

/**
 * OpenAI usage as Anthropic usage: the inverse of `toUsage`, so a round trip is exact. An
 * OpenAI upstream's `cached_tokens` are part of its `prompt_tokens`, hence subtracted.
 *
 * @example fromUsage({ prompt_tokens: 100, completion_tokens: 5, total_tokens: 105,
 *   prompt_tokens_details: { cached_tokens: 90 } })
 *   // → { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90, cache_creation_input_tokens: 0 }
 */
export function fromUsage(usage: Usage | null | undefined): AnthropicUsage {
  const cacheRead = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cacheRead - cacheWrite),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
}
