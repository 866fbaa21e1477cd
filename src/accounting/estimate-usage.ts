import type { CallRecord } from '../core/context.js';
import type { GatewayCall } from '../core/pipeline.js';
import { countChatPrompt, countTextTokens } from './tokens.js';

/**
 * Fills `record.usage` from local counts when the upstream reported none — a stream cut before
 * its usage chunk, an upstream that never sends usage — and marks the record `estimated`.
 * Calls that never reached an upstream (validation, unknown model) cost nothing and stay at 0.
 * The prompt is counted with its tools; output is the text and tool-call arguments streamed.
 */
export function estimateMissingUsage(call: GatewayCall, record: CallRecord): void {
  if (call.kind !== 'chat' || record.deployment === null) return;
  if (record.outcome === 'error' && record.chunks === 0) return;
  const completion = record.outputParts.length === 0 ? 0 : countTextTokens(record.outputParts.join(''));
  const prompt = countChatPrompt(call.request).tokens;
  record.usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  record.estimated = true;
}
