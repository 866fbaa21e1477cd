import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage } from '../core/types.js';

/**
 * Local token counting with o200k_base (the GPT-4o/4.1/5 encoding; exact ids, same as
 * tiktoken). Used where the upstream reports no usage (a stream cut before its usage chunk) and
 * for pre-flight estimates; the upstream's own usage is always the billing truth.
 *
 * BPE is superlinear on long runs without whitespace (20k 'a's: ~0.25 s), so text is counted in
 * windows of at most WINDOW characters, cut at whitespace where possible (a few tokens of error
 * at hard cuts), and past MAX_EXACT characters the rest is estimated at 4 characters a token.
 */
const WINDOW = 4_096;
const MAX_EXACT = 1_000_000;

export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length <= WINDOW) return countTokens(text);
  let total = 0;
  let start = 0;
  const end = Math.min(text.length, MAX_EXACT);
  while (start < end) {
    let stop = Math.min(start + WINDOW, end);
    if (stop < end) {
      const space = text.lastIndexOf(' ', stop);
      if (space > start + WINDOW / 2) stop = space;
    }
    total += countTokens(text.slice(start, stop));
    start = stop;
  }
  if (text.length > MAX_EXACT) total += Math.ceil((text.length - MAX_EXACT) / 4);
  return total;
}

/** Tokens every chat message costs around its content (`<|im_start|>role<|im_sep|>…<|im_end|>`). */
const PER_MESSAGE = 3;
/** The reply is primed with `<|im_start|>assistant<|im_sep|>`. */
const REPLY_PRIMING = 3;

/**
 * Prompt tokens of a conversation by OpenAI's framing rules for the gpt-4o family.
 * limitation: image parts and tool definitions are not counted yet.
 */
export function countChatPromptTokens(messages: readonly ChatMessage[]): number {
  let total = REPLY_PRIMING;
  for (const message of messages) {
    total += PER_MESSAGE + countTextTokens(message.role) + countTextTokens(messageText(message));
    if (typeof message.name === 'string') total += 1 + countTextTokens(message.name);
    for (const call of message.tool_calls ?? [])
      total += countTextTokens(call.function.name) + countTextTokens(call.function.arguments);
  }
  return total;
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
