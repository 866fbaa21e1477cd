/**
 * Local token counting: exact o200k_base / cl100k_base counts of text and of chat prompts
 * (framing and tools), bounded in time. See `tokens-text.ts` and `tokens-chat.ts`.
 */
export {
  addCounts,
  countText,
  countTextTokens,
  DEFAULT_COUNT_BUDGET_MS,
  fixed,
  loadEncoding,
  WorkBudget,
  type CountOptions,
  type EncodingName,
  type TokenCount,
} from './tokens-text.js';
export {
  countChatPrompt,
  countChatPromptTokens,
  messageText,
  warmUpCounting,
  type ChatCountOptions,
} from './tokens-chat.js';
