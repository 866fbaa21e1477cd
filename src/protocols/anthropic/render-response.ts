import type { ChatResponse } from '../../core/types.js';
import { toStopReason } from './map-stop-reason.js';
import { fromUsage } from './map-usage.js';
import type { AnthropicContentBlock, AnthropicMessage } from './wire.js';

/**
 * A canonical chat completion as an Anthropic Message — what `POST /v1/messages` answers and the
 * mock's Anthropic route sends: the text as one text block, each tool call as a `tool_use`
 * block (arguments parsed; arguments that are not JSON are kept as `{"arguments": "…"}`),
 * `finish_reason` → `stop_reason`, usage as `fromUsage` says. Choices past the first are dropped
 * (Anthropic has one).
 *
 * @example toAnthropicMessage(completion).content // → [{ type: 'text', text: 'Hello!' }]
 */
export function toAnthropicMessage(response: ChatResponse): AnthropicMessage {
  const choice = response.choices[0];
  const content: AnthropicContentBlock[] = [];
  const text = choice?.message.content;
  if (typeof text === 'string' && text !== '') content.push({ type: 'text', text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: toStopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: fromUsage(response.usage),
  };
}

/** Tool-call arguments as the object Anthropic carries in `input`. */
export function parseArguments(args: string): unknown {
  if (args.trim() === '') return {};
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return { arguments: args };
  }
}
