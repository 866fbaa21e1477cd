import type { CallRecord } from '../core/context.js';
import type { GatewayCall } from '../core/pipeline.js';
import { countChatPrompt, countTextTokens, WorkBudget } from './tokens.js';

/**
 * Counting time allowed for one call's estimate. More than a pre-flight count gets: this runs
 * once, at the end of the rare call whose upstream reported no usage, and exactness matters for
 * billing; past it the rest is estimated from the ratio counted so far.
 */
const ESTIMATE_BUDGET_MS = 25;

/**
 * Fills `record.usage` from local counts when the upstream reported none — a stream cut before
 * its usage chunk, an upstream that never sends usage — and marks the record `estimated`.
 * Calls that never reached an upstream (validation, unknown model) cost nothing and stay at 0.
 * The prompt is counted with its tools; output is the text and tool-call arguments streamed.
 */
export function estimateMissingUsage(call: GatewayCall, record: CallRecord): void {
  if (call.kind !== 'chat' || record.deployment === null) return;
  if (record.outcome === 'error' && record.chunks === 0) return;
  const budget = new WorkBudget(ESTIMATE_BUDGET_MS);
  const completion = record.outputParts.length === 0 ? 0 : countTextTokens(record.outputParts.join(''), { budget });
  const prompt = countChatPrompt(call.request, { budget }).tokens;
  record.usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  record.estimated = true;
}
