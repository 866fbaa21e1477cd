import type { ChatResponse, ToolCall } from '../../core/types.js';
import { toFinishReason } from './map-stop-reason.js';
import { toUsage } from './map-usage.js';
import type { AnthropicMessage, AnthropicTextBlock, AnthropicToolUseBlock } from './wire.js';

/**
 * An Anthropic Message as the canonical (OpenAI) chat completion: text blocks joined into
 * `content` (null when there are none), `tool_use` blocks as `tool_calls` with their input as
 * JSON `arguments`, `stop_reason` → `finish_reason`, usage as `toUsage` says. The message id is
 * kept; `created` is when we received it.
 * limitation: thinking, citations and server-tool blocks are not translated.
 *
 * @example fromAnthropicMessage(message, 1767225600).choices[0].finish_reason // → 'stop' for end_turn
 */
export function fromAnthropicMessage(message: AnthropicMessage, created: number): ChatResponse {
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') texts.push((block as AnthropicTextBlock).text);
    else if (block.type === 'tool_use') {
      const use = block as AnthropicToolUseBlock;
      toolCalls.push({
        id: use.id,
        type: 'function',
        function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) },
      });
    }
  }
  const reply: ChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
    refusal: null,
  };
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  return {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [{ index: 0, message: reply, logprobs: null, finish_reason: toFinishReason(message.stop_reason) }],
    usage: toUsage(message.usage),
  };
}
