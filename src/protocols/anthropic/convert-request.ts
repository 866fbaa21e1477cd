import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart, ToolChoice } from '../../core/types.js';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from './wire.js';

export interface ConvertRequestOptions {
  /** `max_tokens` when the request sets neither `max_completion_tokens` nor `max_tokens` (Anthropic requires one). */
  defaultMaxTokens: number;
}

/**
 * The canonical (OpenAI) chat request as an Anthropic Messages request.
 *
 * - `system` and `developer` messages, wherever they are, become the top-level `system`.
 * - Images: `data:` URLs become base64 sources, other URLs url sources.
 * - An assistant's `tool_calls` become `tool_use` blocks; `tool` messages become `tool_result`
 *   blocks in a user turn; consecutive turns of one role are merged (Anthropic alternates).
 * - `tool_choice` auto / none / required / named → auto / none / any / tool;
 *   `parallel_tool_calls: false` → `disable_parallel_tool_use`.
 * - `stop` → `stop_sequences`; `user` / `safety_identifier` → `metadata.user_id`.
 * - Dropped, as Anthropic has no equivalent: penalties, `seed`, `logprobs`, `stream_options`.
 * - Refused with a 400 naming the field: `n` > 1, JSON `response_format`, the legacy `function`
 *   role, content parts other than text and images, tool-call arguments that are not JSON.
 * - limitation: `temperature` is passed as is; Anthropic's range is 0–1, OpenAI's 0–2.
 *
 * @example toAnthropicRequest({ model: 'claude-x', messages: [{ role: 'system', content: 'Be terse.' },
 *   { role: 'user', content: 'Hi' }] }, { defaultMaxTokens: 4096 })
 *   // → { model: 'claude-x', max_tokens: 4096, system: 'Be terse.', messages: [{ role: 'user', content: 'Hi' }] }
 */
export function toAnthropicRequest(req: ChatRequest, options: ConvertRequestOptions): AnthropicRequest {
  refuseUntranslatable(req);
  const system: AnthropicTextBlock[] = [];
  const turns: AnthropicMessageParam[] = [];
  req.messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content, `${at}.content`));
        return;
      case 'user':
        return push(turns, 'user', contentBlocks(message.content, `${at}.content`));
      case 'assistant':
        return push(turns, 'assistant', assistantBlocks(message, at));
      case 'tool':
        return push(turns, 'user', [toolResult(message, at)]);
      default:
        throw invalid(
          `The '${message.role}' role cannot be sent to Anthropic; use 'tool' messages for tool results.`,
          `${at}.role`,
        );
    }
  });

  const out: AnthropicRequest = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? options.defaultMaxTokens,
    messages: turns,
  };
  if (system.length === 1) out.system = system[0]!.text;
  else if (system.length > 1) out.system = system;
  if (typeof req.stop === 'string') out.stop_sequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) out.stop_sequences = req.stop;
  if (typeof req.temperature === 'number') out.temperature = req.temperature;
  if (typeof req.top_p === 'number') out.top_p = req.top_p;
  if (typeof req.top_k === 'number') out.top_k = req.top_k;
  const user = req.safety_identifier ?? req.user;
  if (typeof user === 'string' && user !== '') out.metadata = { user_id: user };
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoice(req.tool_choice, req.parallel_tool_calls === false);
    if (choice) out.tool_choice = choice;
  }
  return out;
}

function refuseUntranslatable(req: ChatRequest): void {
  if (typeof req.n === 'number' && req.n > 1) throw invalid('Anthropic answers one choice only (n = 1).', 'n');
  const format = req.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') {
    throw invalid(`response_format '${String(format)}' cannot be translated for Anthropic.`, 'response_format.type');
  }
}

function toolChoice(choice: ToolChoice | undefined, serial: boolean): AnthropicToolChoice | undefined {
  const parallel = serial ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return serial ? { type: 'auto', ...parallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...parallel };
  if (choice === 'required') return { type: 'any', ...parallel };
  return { type: 'tool', name: choice.function.name, ...parallel };
}

/** Appends a turn, merging it into the previous one when the role is the same. */
function push(turns: AnthropicMessageParam[], role: 'user' | 'assistant', blocks: AnthropicContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) {
    const previous = typeof last.content === 'string' ? [text(last.content)] : last.content;
    last.content = [...previous, ...blocks];
    return;
  }
  // A lone text block reads (and is billed) the same as a plain string, and keeps fixtures legible.
  const only = blocks.length === 1 ? blocks[0] : undefined;
  const plain = only?.type === 'text' && Object.keys(only).length === 2;
  turns.push({ role, content: plain ? (only as AnthropicTextBlock).text : blocks });
}

function contentBlocks(content: ChatMessage['content'], at: string): AnthropicContentBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [text(content)];
  return content.flatMap((part, j) => partBlock(part, `${at}[${j}]`));
}

function partBlock(part: ContentPart, at: string): AnthropicContentBlock[] {
  if (part.type === 'text') {
    const value = (part as { text: string }).text;
    return value === '' ? [] : [text(value)];
  }
  if (part.type === 'image_url') return [image((part as { image_url: { url: string } }).image_url.url, at)];
  throw invalid(`Content parts of type '${part.type}' cannot be translated for Anthropic.`, `${at}.type`);
}

function textBlocks(content: ChatMessage['content'], at: string): AnthropicTextBlock[] {
  return contentBlocks(content, at).map((block, j) => {
    if (block.type !== 'text') throw invalid('System messages may hold text only.', `${at}[${j}]`);
    return block as AnthropicTextBlock;
  });
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function image(url: string, at: string): AnthropicImageBlock {
  const data = DATA_URL.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1]!, data: data[2]! } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid('An image URL must be http(s) or a base64 data: URL.', `${at}.image_url.url`);
}

function assistantBlocks(message: ChatMessage, at: string): AnthropicContentBlock[] {
  const blocks = contentBlocks(message.content, `${at}.content`);
  (message.tool_calls ?? []).forEach((call, j) => {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments, `${at}.tool_calls[${j}].function.arguments`),
    });
  });
  return blocks;
}

function toolInput(args: string, at: string): unknown {
  if (args.trim() === '') return {};
  try {
    return JSON.parse(args) as unknown;
  } catch {
    throw invalid('Tool-call arguments must be JSON to be sent to Anthropic.', at);
  }
}

function toolResult(message: ChatMessage, at: string): AnthropicToolResultBlock {
  const content = contentBlocks(message.content, `${at}.content`);
  const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: message.tool_call_id ?? '' };
  const only = content.length === 1 ? content[0] : undefined;
  if (only?.type === 'text') block.content = (only as AnthropicTextBlock).text;
  else if (content.length > 0) block.content = content;
  return block;
}

const text = (value: string): AnthropicTextBlock => ({ type: 'text', text: value });

const invalid = (message: string, param: string): GatewayError =>
  new GatewayError('invalid_request', `Invalid '${param}': ${message}`, { param });
