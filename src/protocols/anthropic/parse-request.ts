import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolChoice } from '../../core/types.js';
import type { RequestLimits } from '../../core/request-limits.js';
import { parseWith } from '../../core/validate-request.js';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicRequest,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
} from './wire.js';

/**
 * The schema of what `@anthropic-ai/sdk` clients send to `POST /v1/messages`: strict on what we
 * translate (roles, block shapes, numeric ranges, `max_tokens` required as Anthropic requires
 * it), loose elsewhere, so newer fields pass and are ignored.
 */
const block = z.looseObject({ type: z.string().min(1) }).superRefine((b, ctx) => {
  const need = (path: string[], ok: boolean, message: string): void => {
    if (!ok) ctx.addIssue({ code: 'custom', path, message });
  };
  const field = (name: string): unknown => b[name];
  switch (b.type) {
    case 'text':
      return need(['text'], typeof field('text') === 'string', 'must be a string');
    case 'image': {
      const source = field('source') as Record<string, unknown> | undefined;
      if (source?.type === 'base64') {
        need(['source', 'media_type'], typeof source.media_type === 'string', 'must be a string');
        return need(['source', 'data'], typeof source.data === 'string', 'must be a string');
      }
      if (source?.type === 'url') return need(['source', 'url'], typeof source.url === 'string', 'must be a string');
      return need(['source', 'type'], false, "must be 'base64' or 'url'");
    }
    case 'tool_use':
      need(['id'], typeof field('id') === 'string', 'must be a string');
      return need(['name'], typeof field('name') === 'string' && field('name') !== '', 'must be a non-empty string');
    case 'tool_result': {
      need(['tool_use_id'], typeof field('tool_use_id') === 'string', 'must be a string');
      const content = field('content');
      return need(
        ['content'],
        content === undefined || typeof content === 'string' || Array.isArray(content),
        'must be a string or an array of blocks',
      );
    }
  }
});

const content = z.union([z.string(), z.array(block)]);
const unit = z.number().min(0).max(1).optional();

const requestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant', 'system']), content })).min(1),
  system: z.union([z.string(), z.array(block)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: unit,
  top_p: unit,
  top_k: z.number().int().nonnegative().optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.record(z.string(), z.unknown()),
        type: z.literal('custom').optional(),
      }),
    )
    .optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.enum(['auto', 'any', 'none']), disable_parallel_tool_use: z.boolean().optional() }),
      z.looseObject({
        type: z.literal('tool'),
        name: z.string().min(1),
        disable_parallel_tool_use: z.boolean().optional(),
      }),
    ])
    .optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
});

/**
 * Validates an Anthropic Messages request and translates it into the canonical (OpenAI) chat
 * request that the pipeline runs — the inverse of `toAnthropicRequest`:
 *
 * - `system` (and `system` turns) → system messages; `stop_sequences` → `stop`;
 *   `metadata.user_id` → `user`; a stream asks for the usage chunk (the events need it);
 * - `tool_result` blocks → `tool` messages, placed before the rest of their user turn;
 *   `tool_use` blocks → the assistant's `tool_calls`; images → `image_url` parts (base64 as
 *   `data:` URLs); thinking blocks are dropped;
 * - `tool_choice` any / tool → required / named; `disable_parallel_tool_use` → `parallel_tool_calls: false`.
 * - limitation: `top_k` (no OpenAI equivalent), `thinking`, `service_tier` and other Anthropic-only
 *   fields are dropped; document blocks, images inside tool results and server tools are refused.
 *
 * Problems are 400 `invalid_request` errors naming the field (`messages[1].content[0].source.type`),
 * a body nested deeper than `limits.maxDepth` included (checked before anything else).
 *
 * @example fromAnthropicRequest({ model: 'fast', max_tokens: 64, system: 'Be terse.',
 *   messages: [{ role: 'user', content: 'Hi' }] })
 *   // → { model: 'fast', max_tokens: 64, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }] }
 */
export function fromAnthropicRequest(body: unknown, limits?: RequestLimits): ChatRequest {
  const req = parseWith<AnthropicRequest>(requestSchema, body, limits);
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) messages.push(systemMessage(req.system, 'system'));
  req.messages.forEach((turn, i) => {
    const at = `messages[${i}].content`;
    if (turn.role === 'system') messages.push(systemMessage(turn.content, at));
    else if (turn.role === 'assistant') messages.push(assistantMessage(turn.content, at));
    else messages.push(...userMessages(turn.content, at));
  });

  const out: ChatRequest = { model: req.model, messages, max_tokens: req.max_tokens };
  if (req.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (typeof req.metadata?.user_id === 'string') out.user = req.metadata.user_id;
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.input_schema,
      },
    }));
    if (req.tool_choice) {
      out.tool_choice = toolChoice(req.tool_choice);
      if ('disable_parallel_tool_use' in req.tool_choice && req.tool_choice.disable_parallel_tool_use === true)
        out.parallel_tool_calls = false;
    }
  }
  return out;
}

function toolChoice(choice: AnthropicToolChoice): ToolChoice {
  switch (choice.type) {
    case 'none':
      return 'none';
    case 'any':
      return 'required';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    default:
      return 'auto';
  }
}

function systemMessage(content: string | AnthropicContentBlock[], at: string): ChatMessage {
  if (typeof content === 'string') return { role: 'system', content };
  const parts = content.map((b, j) => {
    if (b.type !== 'text') throw unsupported(b.type, `${at}[${j}].type`);
    return { type: 'text' as const, text: (b as { text: string }).text };
  });
  return { role: 'system', content: parts.length === 1 ? parts[0]!.text : parts };
}

/** A user turn: its tool results as `tool` messages first (OpenAI wants them right after the call), then the rest. */
function userMessages(content: string | AnthropicContentBlock[], at: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  content.forEach((b, j) => {
    const here = `${at}[${j}]`;
    if (b.type === 'tool_result') tools.push(toolMessage(b as AnthropicToolResultBlock, here));
    else if (b.type === 'text') parts.push({ type: 'text', text: (b as { text: string }).text });
    else if (b.type === 'image') parts.push(imagePart(b as AnthropicImageBlock));
    else throw unsupported(b.type, `${here}.type`);
  });
  if (parts.length === 0) return tools;
  return [...tools, { role: 'user', content: collapse(parts) }];
}

function assistantMessage(content: string | AnthropicContentBlock[], at: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((b, j) => {
    if (b.type === 'text') texts.push((b as { text: string }).text);
    else if (b.type === 'tool_use') {
      const use = b as AnthropicToolUseBlock;
      calls.push({
        id: use.id,
        type: 'function',
        function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) },
      });
    } else if (b.type !== 'thinking' && b.type !== 'redacted_thinking') throw unsupported(b.type, `${at}[${j}].type`);
  });
  const message: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function toolMessage(result: AnthropicToolResultBlock, at: string): ChatMessage {
  let text: string | ContentPart[] = '';
  if (typeof result.content === 'string') text = result.content;
  else if (Array.isArray(result.content)) {
    const parts = result.content.map((b, k) => {
      if (b.type !== 'text') throw unsupported(b.type, `${at}.content[${k}].type`, 'inside a tool result');
      return { type: 'text' as const, text: (b as { text: string }).text };
    });
    text = collapse(parts);
  }
  return { role: 'tool', tool_call_id: result.tool_use_id, content: text };
}

function imagePart(image: AnthropicImageBlock): ContentPart {
  const source = image.source as { type: string; media_type?: string; data?: string; url?: string };
  const url = source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : (source.url ?? '');
  return { type: 'image_url', image_url: { url } };
}

/** One text part reads best as a plain string (and is what most OpenAI-wire servers expect). */
function collapse(parts: ContentPart[]): string | ContentPart[] {
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.type === 'text' ? (only as { text: string }).text : parts;
}

function unsupported(type: string, param: string, where = ''): GatewayError {
  const place = where ? ` ${where}` : '';
  const message = `Invalid request: '${param}': content blocks of type '${type}'${place} are not supported by this gateway.`;
  return new GatewayError('invalid_request', message, { param });
}
