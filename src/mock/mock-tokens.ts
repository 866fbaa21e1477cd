import { messageText } from '../tokens/tokens.js';
import type { ChatMessage } from '../core/types.js';

export { messageText };

/**
 * Token counting for the mock's usage numbers, with gpt-tokenizer: o200k_base (the GPT-4o
 * family) for chat, cl100k_base (text-embedding-3) for embeddings. The encoders load lazily on
 * first use (~0.5 s for o200k) and are cached for the life of the process.
 */

type ChatEncoding = typeof import('gpt-tokenizer/model/gpt-4o');
type TextEncoding = typeof import('gpt-tokenizer/encoding/cl100k_base');

/** Text that looks like a special token (`<|endoftext|>`) is counted as text, never refused. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

let chatEncoding: Promise<ChatEncoding> | undefined;
let embeddingEncoding: Promise<TextEncoding> | undefined;

/** A message as gpt-tokenizer's `encodeChat` takes it. */
export interface TokenizerMessage {
  role: string;
  name?: string;
  content: string;
}

/** Counts o200k_base tokens the way the mock bills them. */
export interface ChatTokenCounter {
  /** Prompt tokens of a conversation: `encodeChat(messages)` for the gpt-4o family. */
  prompt: (messages: readonly ChatMessage[]) => number;
  /** Tokens of a piece of generated text. */
  text: (text: string) => number;
}

/**
 * Loads (once) and returns the chat token counter.
 *
 * @example const tokens = await loadChatTokenCounter(); tokens.text('hello world') // → 2
 */
export async function loadChatTokenCounter(): Promise<ChatTokenCounter> {
  chatEncoding ??= import('gpt-tokenizer/model/gpt-4o');
  const encoding = await chatEncoding;
  return {
    prompt: (messages) => encoding.encodeChat(toTokenizerMessages(messages), undefined, AS_TEXT).length,
    text: (text) => (text.length === 0 ? 0 : encoding.encode(text, AS_TEXT).length),
  };
}

/**
 * Loads (once) the embedding tokenizer and returns a counter for one input string.
 *
 * @example const count = await loadEmbeddingTokenCounter(); count('hello world') // → 2
 */
export async function loadEmbeddingTokenCounter(): Promise<(text: string) => number> {
  embeddingEncoding ??= import('gpt-tokenizer/encoding/cl100k_base');
  const encoding = await embeddingEncoding;
  return (text) => (text.length === 0 ? 0 : encoding.encode(text, AS_TEXT).length);
}

/**
 * Flattens canonical messages for `encodeChat`: text parts are joined, other parts (images,
 * audio) are not counted, and an assistant's tool calls count as their names and arguments.
 * // limitation: image and audio tokens are not billed, nor are tool definitions.
 */
export function toTokenizerMessages(messages: readonly ChatMessage[]): TokenizerMessage[] {
  return messages.map((message) => {
    let content = messageText(message);
    for (const call of message.tool_calls ?? []) content += `${call.function.name}${call.function.arguments}`;
    const flat: TokenizerMessage = { role: message.role, content };
    if (typeof message.name === 'string') flat.name = message.name;
    return flat;
  });
}
