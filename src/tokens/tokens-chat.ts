import { formatFunctionDefinitions, type ChatCompletionFunctionDefinition } from 'gpt-tokenizer/functionCalling';
import type { ChatMessage, ChatRequest, ToolDefinition } from '../core/types.js';
import {
  addCounts,
  countText,
  fixed,
  loadedEncodings,
  WorkBudget,
  type CountOptions,
  type TokenCount,
} from './tokens-text.js';

/**
 * Prompt tokens of a chat request by OpenAI's published and community-established framing rules
 * (the OpenAI cookbook's "How to count tokens with tiktoken", and the function-definition rules
 * gpt-tokenizer's `countChatCompletionTokens` implements):
 *
 * - every message costs 3 tokens of framing (`<|im_start|>`, `<|im_sep|>`, `<|im_end|>`) plus its
 *   role and content; a `name` costs its tokens plus 1; a `function` message 2 less;
 * - an assistant's tool call costs its name, its arguments and 3; the reply is primed with 3;
 * - tool definitions are rendered as the TypeScript-like `namespace functions { ... }` block the
 *   models see, plus 9; minus 4 when there is a system message (whose content gains a trailing
 *   newline); `tool_choice: none` adds 1, a forced function its name plus 4.
 *
 * Residual error (documented in README.md, "Cost and budgets"): the tool rendering ignores
 * JSON-Schema features the community format does not cover (`anyOf`, `$ref`, descriptions nested
 * two levels down, `strict`), several tool calls in one message are counted as separate
 * function calls, and image parts are counted by `imageTokens` (an estimate; the true figure
 * depends on the image's size, which the gateway does not download).
 */
export interface ChatCountOptions extends CountOptions {
  /** Tokens assumed per image part (estimate). Default 765 (a 1024×1024 image at high detail). */
  imageTokens?: number;
  /** Upper bound per image part. Default 1,445 (the most a high-detail image costs on gpt-4o). */
  imageTokensMax?: number;
}

const PER_MESSAGE = 3;
const PER_NAME = 1;
const FUNCTION_ROLE_DISCOUNT = 2;
const PER_TOOL_CALL = 3;
const REPLY_PRIMING = 3;
const TOOLS_OVERHEAD = 9;
const SYSTEM_WITH_TOOLS_DEDUCTION = 4;
const TOOL_CHOICE_NONE = 1;
const TOOL_CHOICE_NAMED = 4;

/**
 * Counts the prompt of a chat request (messages, tools, tool_choice).
 *
 * @example countChatPrompt({ messages: [{ role: 'user', content: 'hi' }] }) // → { tokens: 8, upperBound: 8, exact: true }
 */
export function countChatPrompt(
  request: Pick<ChatRequest, 'messages' | 'tools' | 'tool_choice'>,
  options: ChatCountOptions = {},
): TokenCount {
  const budget = options.budget ?? new WorkBudget();
  const opts: CountOptions = { budget, ...(options.encoding ? { encoding: options.encoding } : {}) };
  const count = (text: string): TokenCount => countText(text, opts);
  // What a client sends again on every call (history, system prompt, tools) is remembered; the
  // newest message is counted afresh.
  const again: CountOptions = { ...opts, remember: true };
  const last = request.messages.length - 1;
  const functions = (request.tools ?? []).filter((t) => t.type === 'function').map(toFunctionDefinition);
  const hasTools = functions.length > 0;
  const parts: TokenCount[] = [fixed(REPLY_PRIMING)];
  let systemPadded = false;
  let images = 0;

  for (const [index, message] of request.messages.entries()) {
    let text = messageText(message);
    if (hasTools && message.role === 'system' && !systemPadded) {
      systemPadded = true;
      if (text.length > 0 && !text.endsWith('\n')) text += '\n';
    }
    parts.push(fixed(PER_MESSAGE - (message.role === 'function' ? FUNCTION_ROLE_DISCOUNT : 0)));
    parts.push(count(message.role), index < last ? countText(text, again) : count(text));
    if (typeof message.name === 'string' && message.name.length > 0) parts.push(count(message.name), fixed(PER_NAME));
    for (const call of message.tool_calls ?? []) {
      parts.push(count(call.function.name), count(call.function.arguments), fixed(PER_TOOL_CALL));
    }
    const legacyCall = message.function_call as { name?: string; arguments?: string } | undefined;
    if (legacyCall && typeof legacyCall === 'object') {
      parts.push(count(legacyCall.name ?? ''), count(legacyCall.arguments ?? ''), fixed(PER_TOOL_CALL));
    }
    if (Array.isArray(message.content)) images += message.content.filter((p) => p.type === 'image_url').length;
  }

  if (hasTools) {
    parts.push(countText(formatFunctionDefinitions(functions), again), fixed(TOOLS_OVERHEAD));
    if (request.messages.some((m) => m.role === 'system')) parts.push(fixed(-SYSTEM_WITH_TOOLS_DEDUCTION));
  }
  const choice = request.tool_choice;
  if (choice === 'none' && hasTools) parts.push(fixed(TOOL_CHOICE_NONE));
  else if (typeof choice === 'object' && choice.function?.name)
    parts.push(count(choice.function.name), fixed(TOOL_CHOICE_NAMED));

  if (images > 0) {
    const each = options.imageTokens ?? 765;
    const max = options.imageTokensMax ?? 1_445;
    parts.push({ tokens: images * each, upperBound: images * Math.max(each, max), exact: false });
  }
  return addCounts(...parts);
}

/**
 * Counts a small chat prompt (with a tool) a few times in every loaded encoding, unbounded, so
 * the first requests after start-up do not spend their work budget on the encoder's and this
 * module's lazy initialisation (~10 ms) and get estimates instead of exact counts.
 */
export function warmUpCounting(): void {
  const request: Pick<ChatRequest, 'messages' | 'tools'> = {
    messages: [
      { role: 'system', content: 'Warm up.' },
      { role: 'user', content: 'The quick brown fox, 0123456789, ¿qué?, 日本語, 👍 — {"a": [1, 2]}' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'f',
          description: 'd',
          parameters: { type: 'object', properties: { x: { type: 'string' } } },
        },
      },
    ],
  };
  for (const encoding of loadedEncodings())
    for (let i = 0; i < 3; i++)
      countChatPrompt(request, { encoding, budget: new WorkBudget(Number.POSITIVE_INFINITY) });
}

/** Prompt tokens of a conversation (no tools), as a number. */
export function countChatPromptTokens(messages: readonly ChatMessage[], options: ChatCountOptions = {}): number {
  return countChatPrompt({ messages: [...messages] }, options).tokens;
}

/** The plain text of a message's content (text parts joined by newlines). */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
  return texts.join('\n');
}

/** A Chat Completions tool as the function-definition renderer takes it (the schema is passed through as is). */
function toFunctionDefinition(tool: ToolDefinition): ChatCompletionFunctionDefinition {
  const { name, description, parameters } = tool.function;
  return {
    name,
    ...(description !== undefined ? { description } : {}),
    ...(parameters !== undefined
      ? { parameters: parameters as unknown as ChatCompletionFunctionDefinition['parameters'] }
      : {}),
  };
}
