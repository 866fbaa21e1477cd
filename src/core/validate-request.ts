import { z } from 'zod';
import { GatewayError } from './errors.js';
import { checkRequestLimits, DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits.js';
import type { ChatRequest, EmbeddingRequest } from './types.js';

/**
 * Request schemas for what clients send. Strict where a mistake would otherwise surface as a
 * confusing upstream error (roles, content shapes, numeric ranges), loose elsewhere: unknown
 * OpenAI parameters pass through to OpenAI-wire upstreams.
 */
const contentPart = z.looseObject({ type: z.string().min(1) }).superRefine((part, ctx) => {
  if (part.type === 'text' && typeof part.text !== 'string')
    ctx.addIssue({ code: 'custom', path: ['text'], message: 'must be a string' });
  if (part.type === 'image_url') {
    const image = part.image_url as { url?: unknown } | undefined;
    if (!image || typeof image.url !== 'string')
      ctx.addIssue({ code: 'custom', path: ['image_url', 'url'], message: 'must be a string' });
  }
});

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const message = z
  .looseObject({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['tool_call_id'], message: 'is required for role "tool"' });
    }
    if (m.role !== 'assistant' && (m.content === undefined || m.content === null)) {
      ctx.addIssue({ code: 'custom', path: ['content'], message: `is required for role "${m.role}"` });
    }
  });

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1).max(64),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

const positiveInt = z.number().int().positive().nullable().optional();
const unit = (max: number) => z.number().min(0).max(max).nullable().optional();

const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: positiveInt,
  max_completion_tokens: positiveInt,
  n: z.number().int().min(1).max(128).nullable().optional(),
  temperature: unit(2),
  top_p: unit(1),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4), z.null()]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
    ])
    .optional(),
  user: z.string().optional(),
  safety_identifier: z.string().max(64).optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
});

const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

/** `messages[0].content` — the way OpenAI names a field in `param`. */
export function formatParam(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

/**
 * Validates a request body against a schema; the first problem becomes a 400 `invalid_request`
 * whose `param` and message name the field (`messages[0].content`). The body's depth and size
 * are checked first (`requests.maxDepth`, `requests.maxNodes`): fields the schema passes through
 * (unknown keys, `response_format`, tool parameters) are otherwise never looked into.
 *
 * @example parseWith<ChatRequest>(chatRequestSchema, { model: 'm' })
 *   // throws GatewayError: Invalid request: 'messages' is required.
 */
export function parseWith<T>(schema: z.ZodType, body: unknown, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  checkRequestLimits(body, limits);
  const result = schema.safeParse(body);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0]!;
  const param = formatParam(issue.path);
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  const detail = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  throw new GatewayError('invalid_request', `Invalid request: '${param || 'body'}' ${detail}${more}.`, {
    param: param || null,
  });
}

export const parseChatRequest = (body: unknown, limits?: RequestLimits): ChatRequest =>
  parseWith<ChatRequest>(chatRequestSchema, body, limits);
export const parseEmbeddingRequest = (body: unknown, limits?: RequestLimits): EmbeddingRequest =>
  parseWith<EmbeddingRequest>(embeddingRequestSchema, body, limits);
