import type { ChatChunk } from './types.js';

/**
 * A chunk that carries nothing yet: the opening `{role:'assistant', content:''}` delta every
 * OpenAI-wire stream starts with. Such chunks are held back until the first real one, so the
 * stream's commit point (status 200 sent, retry and fallback no longer possible) is the first
 * chunk with content, a tool call, a finish reason or usage.
 */
export function isPreamble(chunk: ChatChunk): boolean {
  if (chunk.usage) return false;
  for (const choice of chunk.choices) {
    const delta = choice.delta;
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) return false;
    if (
      (delta.content !== undefined && delta.content !== null && delta.content !== '') ||
      delta.tool_calls ||
      delta.refusal
    )
      return false;
  }
  return chunk.choices.length > 0;
}
