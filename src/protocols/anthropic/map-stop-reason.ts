import type { FinishReason } from '../../core/types.js';
import type { AnthropicStopReason } from './wire.js';

/**
 * Anthropic's `stop_reason` as an OpenAI `finish_reason`. `pause_turn` (a server tool paused
 * a long turn) ends this response normally, so it reads as `stop`; the model running out of
 * context window reads as `length`, like OpenAI's.
 *
 * @example toFinishReason('tool_use') // → 'tool_calls'
 */
export function toFinishReason(reason: AnthropicStopReason | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, and anything newer: a normal end.
      return 'stop';
  }
}

/**
 * An OpenAI `finish_reason` as Anthropic's `stop_reason`. OpenAI does not say which stop
 * sequence matched, so `stop` is always `end_turn` (and `stop_sequence` stays null).
 *
 * @example toStopReason('length') // → 'max_tokens'
 */
export function toStopReason(reason: FinishReason | null | undefined): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}
