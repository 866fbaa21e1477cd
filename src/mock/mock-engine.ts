import type { ChatChunk, ChatRequest, ChatResponse, FinishReason, ToolCall, Usage } from '../core/types.js';
import { createRandom, hashString, randomId } from './mock-random.js';
import { planText, truncatePlan } from './mock-text.js';
import { loadChatTokenCounter, messageText } from './mock-tokens.js';
import { chooseTool, toolArguments } from './mock-tools.js';

/**
 * The mock's answer to a chat request: a pure function of (seed, messages, tools, limits).
 * The in-process provider and the HTTP server both render it; neither decides anything itself.
 */

export interface MockChatOptions {
  /** Seed of the deterministic generator. */
  seed: number;
  /** Length of the reply when the request does not cap it lower. */
  completionTokens: number;
  /** Ignore `max_completion_tokens` / `max_tokens` (an upstream that does not honour them). */
  ignoreOutputLimit?: boolean;
  /** Unix seconds for `created` (kept out of the hash so equal inputs give equal bytes). */
  created: number;
}

export interface MockReply {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  /** The text, or null for a tool call. */
  readonly content: string | null;
  readonly toolCall: ToolCall | null;
  /** What the stream sends between its first and its finish chunk: text, or tool-call arguments. */
  readonly pieces: readonly string[];
  readonly finishReason: FinishReason;
  readonly usage: Usage;
}

const FINGERPRINT = 'fp_tollgate_mock';
/** Characters per streamed piece of tool-call arguments. */
const ARGUMENT_PIECE = /[\s\S]{1,8}/gu;

/**
 * Generates the reply; `finish_reason` is `length` when `max_completion_tokens` (or
 * `max_tokens`) is below `completionTokens`, and `tool_calls` when a tool is called.
 *
 * @example const reply = await generateChatReply(req, { seed: 42, completionTokens: 24, created: 1767225600 });
 *   toChatResponse(reply).choices[0].message.content // → 'Mock reply to: Hello. …'
 */
export async function generateChatReply(req: ChatRequest, options: MockChatOptions): Promise<MockReply> {
  const count = await loadChatTokenCounter();
  const hash = hashString(JSON.stringify(req.messages), options.seed);
  const base = {
    id: `chatcmpl-${randomId(createRandom(hash), 29)}`,
    created: options.created,
    model: req.model,
  };
  const promptTokens = count.prompt(req.messages);

  const tool = chooseTool(req, createRandom(hashString('tool', hash)));
  if (tool) {
    const rng = createRandom(hashString(tool.function.name, hash));
    const args = toolArguments(tool, rng);
    const toolCall: ToolCall = {
      id: `call_${randomId(rng, 24)}`,
      type: 'function',
      function: { name: tool.function.name, arguments: args },
    };
    const completion = count.text(tool.function.name) + count.text(args);
    return {
      ...base,
      content: null,
      toolCall,
      pieces: args.match(ARGUMENT_PIECE) ?? [],
      finishReason: 'tool_calls',
      usage: usage(promptTokens, completion),
    };
  }

  const limit = options.ignoreOutputLimit
    ? Number.POSITIVE_INFINITY
    : (req.max_completion_tokens ?? req.max_tokens ?? Number.POSITIVE_INFINITY);
  const last = [...req.messages].reverse().find((m) => m.role === 'user');
  const full = planText(createRandom(hash), last ? messageText(last) : '', options.completionTokens, count.text);
  let plan = limit < options.completionTokens ? truncatePlan(full, limit) : full;
  let content = plan.pieces.join('');
  let completion = count.text(content);
  // Pieces add up for the vocabulary; should an echoed word merge across a boundary, trim.
  while (completion > limit && plan.pieces.length > 0) {
    plan = truncatePlan(plan, plan.tokens.reduce((a, b) => a + b, 0) - 1);
    content = plan.pieces.join('');
    completion = count.text(content);
  }
  return {
    ...base,
    content,
    toolCall: null,
    pieces: plan.pieces,
    finishReason: limit < options.completionTokens ? 'length' : 'stop',
    usage: usage(promptTokens, completion),
  };
}

/** The non-stream body, as OpenAI sends it. */
export function toChatResponse(reply: MockReply): ChatResponse {
  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', content: reply.content };
  if (reply.toolCall) message.tool_calls = [reply.toolCall];
  message.refusal = null;
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.created,
    model: reply.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: reply.finishReason }],
    usage: reply.usage,
    system_fingerprint: FINGERPRINT,
  };
}

/**
 * The stream, chunk by chunk, as OpenAI sends it: a role chunk, one chunk per piece, a finish
 * chunk with an empty delta, then (only with `includeUsage`) a `choices: []` usage chunk; with
 * `includeUsage` every other chunk carries `usage: null`, without it no chunk has the key.
 */
export function toChatChunks(reply: MockReply, includeUsage: boolean): ChatChunk[] {
  const chunk = (choices: ChatChunk['choices'], usage: Usage | null = null): ChatChunk => {
    const out: ChatChunk = {
      id: reply.id,
      object: 'chat.completion.chunk',
      created: reply.created,
      model: reply.model,
      system_fingerprint: FINGERPRINT,
      choices,
    };
    if (includeUsage) out.usage = usage;
    return out;
  };
  const delta = (d: ChatChunk['choices'][number]['delta'], finish: FinishReason | null = null): ChatChunk =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

  const chunks: ChatChunk[] = [];
  const call = reply.toolCall;
  if (call) {
    const head = {
      index: 0,
      id: call.id,
      type: 'function' as const,
      function: { name: call.function.name, arguments: '' },
    };
    chunks.push(delta({ role: 'assistant', content: null, tool_calls: [head] }));
    for (const piece of reply.pieces)
      chunks.push(delta({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
  } else {
    chunks.push(delta({ role: 'assistant', content: '' }));
    for (const piece of reply.pieces) chunks.push(delta({ content: piece }));
  }
  chunks.push(delta({}, reply.finishReason));
  if (includeUsage) chunks.push(chunk([], reply.usage));
  return chunks;
}

function usage(prompt: number, completion: number): Usage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}
