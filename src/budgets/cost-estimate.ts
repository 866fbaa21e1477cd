import type { GatewayCall } from '../core/pipeline.js';
import type { ChatRequest, Deployment, EmbeddingRequest } from '../core/types.js';
import { requestFor } from '../router/invoke-provider.js';
import type { ModelRegistry } from '../router/model-registry.js';
import { costMicros } from '../pricing/cost.js';
import type { ModelPrice } from '../pricing/price-book.js';
import { addCounts, countChatPrompt, countText, WorkBudget, type TokenCount } from '../tokens/tokens.js';

/** Input tokens are estimated with o200k_base for models without an exact local tokenizer (Anthropic): this much more, to stay an upper bound. */
export const FOREIGN_TOKENIZER_MARGIN = 1.5;
/** And this many more when tools are sent (providers wrap tool definitions in a system prompt of their own). */
export const FOREIGN_TOOLS_OVERHEAD = 600;

/** What a call may cost at most, before it runs: the amount a budget reserves. */
export interface CostEstimate {
  /** The prompt's count (exact, or estimated past the work budget). */
  prompt: TokenCount;
  /** Prompt tokens reserved: the count's upper bound, with the margin for a non-OpenAI tokenizer. */
  promptTokensMax: number;
  /** Output tokens reserved: `max_tokens` (or the model's limit) clamped to the model's limit, × `n`. */
  outputTokensMax: number;
  /** Integer micro-dollars: `promptTokensMax` at the dearest input price + `outputTokensMax` at the output price. */
  maxCostMicros: number;
  /** The input share of it, in pico-dollars (for stream metering). */
  inputMaxPico: bigint;
  price: ModelPrice;
}

export interface EstimateOptions {
  /** Time allowed for exact counting (per call). */
  countBudgetMs: number;
  /** Output assumed for a model without a known limit when the client sets none. */
  defaultMaxOutputTokens: number;
}

/**
 * The most a call can cost on a deployment: a true upper bound for OpenAI models (exact token
 * counts, `max_tokens` clamped to the model's output limit), and one with a margin for models
 * whose tokenizer is not available locally.
 *
 * @example estimateCall(call, deployment, book.lookup('openai', 'gpt-4o-mini')!, { countBudgetMs: 3, defaultMaxOutputTokens: 16384 })
 */
export function estimateCall(
  call: GatewayCall,
  deployment: Deployment,
  price: ModelPrice,
  options: EstimateOptions,
): CostEstimate {
  const budget = new WorkBudget(options.countBudgetMs);
  const encoding = price.encoding ?? 'o200k_base';
  let prompt: TokenCount;
  let outputTokensMax = 0;
  let hasTools = false;
  if (call.kind === 'chat') {
    const upstream: ChatRequest = requestFor(call.request, deployment);
    hasTools = (upstream.tools?.length ?? 0) > 0;
    prompt = countChatPrompt(upstream, { encoding, budget, imageTokensMax: price.imageTokensMax });
    outputTokensMax = maxOutputTokens(upstream, price, options.defaultMaxOutputTokens);
  } else {
    prompt = countEmbeddingInput(requestFor(call.request, deployment), encoding, budget);
  }
  const promptTokensMax =
    price.encoding === null && !price.free
      ? Math.ceil(prompt.upperBound * FOREIGN_TOKENIZER_MARGIN) + (hasTools ? FOREIGN_TOOLS_OVERHEAD : 0)
      : prompt.upperBound;
  const dearestInput = Math.max(price.input, price.cacheWrite, price.cachedInput);
  const inputMaxPico = BigInt(promptTokensMax) * BigInt(dearestInput);
  const maxCostMicros = costMicros(
    { input: promptTokensMax, cachedInput: 0, cacheWrite: 0, output: outputTokensMax },
    { ...price, input: dearestInput },
  );
  return { prompt, promptTokensMax, outputTokensMax, maxCostMicros, inputMaxPico, price };
}

/** The estimate of an alias: its dearest deployment's, and every deployment's by id. */
export type AliasEstimate = CostEstimate & {
  deployment: Deployment;
  byDeployment: ReadonlyMap<string, CostEstimate>;
};

/**
 * The estimate on the dearest of an alias's deployments: whichever one serves the call (fallback
 * included), a reservation of its `maxCostMicros` covers it. Null for an unknown alias.
 */
export function estimateAlias(
  call: GatewayCall,
  models: ModelRegistry,
  priceOf: (deployment: Deployment) => ModelPrice,
  options: EstimateOptions,
): AliasEstimate | null {
  if (!models.has(call.request.model)) return null;
  const alias = models.resolve(call.request.model, call.kind === 'embeddings' ? 'embeddings' : 'chat');
  const byDeployment = new Map<string, CostEstimate>();
  let dearest: (CostEstimate & { deployment: Deployment }) | null = null;
  for (const deployment of alias.deployments) {
    const estimate = estimateCall(call, deployment, priceOf(deployment), options);
    byDeployment.set(deployment.id, estimate);
    if (!dearest || estimate.maxCostMicros > dearest.maxCostMicros) dearest = { ...estimate, deployment };
  }
  return dearest && { ...dearest, byDeployment };
}

/**
 * The output limit (per choice) to send each deployment of an alias so that no answer can cost
 * more than `reservedMicros`: the output tokens the reservation covers at that deployment's
 * prices once its input's share is taken, never above what its estimate counted (the model's
 * limit, which upstreams refuse to exceed), divided among `n` choices. On the dearest deployment
 * that is its `outputTokensMax`; on a cheaper one, at least its own.
 *
 * @example outputCaps(estimateAlias(call, models, priceOf, options)!, reservation.amountMicros, 1)
 *   // → Map { 'gpt-4o#0' => 16384, 'gpt-4o#1' => 16384 }
 */
export function outputCaps(estimate: AliasEstimate, reservedMicros: number, n: number): Map<string, number> {
  const choices = Math.max(1, Math.floor(n));
  const caps = new Map<string, number>();
  for (const [id, each] of estimate.byDeployment) {
    const tokens = Math.min(outputAllowance(reservedMicros, each), each.outputTokensMax);
    // At least 1: upstreams refuse a limit of 0 (only a model priced with no output gets here).
    caps.set(id, Math.max(1, Math.floor(tokens / choices)));
  }
  return caps;
}

/** `max_completion_tokens` / `max_tokens` clamped to the model's limit (the limit when unset), × `n`. */
export function maxOutputTokens(request: ChatRequest, price: ModelPrice, fallback: number): number {
  const limit = price.maxOutputTokens ?? fallback;
  const asked = request.max_completion_tokens ?? request.max_tokens;
  const perChoice = typeof asked === 'number' && asked >= 0 ? Math.min(Math.floor(asked), limit) : limit;
  const n = typeof request.n === 'number' && request.n > 1 ? Math.floor(request.n) : 1;
  return perChoice * n;
}

/**
 * Output tokens a reservation of `amountMicros` still covers once the input's share is taken
 * (Infinity when output is free).
 */
export function outputAllowance(amountMicros: number, estimate: CostEstimate): number {
  if (estimate.price.output === 0) return Number.POSITIVE_INFINITY;
  const left = BigInt(amountMicros) * 1_000_000n - estimate.inputMaxPico;
  return left <= 0n ? 0 : Number(left / BigInt(estimate.price.output));
}

function countEmbeddingInput(
  request: EmbeddingRequest,
  encoding: 'o200k_base' | 'cl100k_base',
  budget: WorkBudget,
): TokenCount {
  const input = request.input;
  const items: unknown[] = Array.isArray(input) ? input : [input];
  return addCounts(
    ...items.map((item): TokenCount => {
      if (typeof item === 'string') return countText(item, { encoding, budget });
      if (typeof item === 'number') return { tokens: 1, upperBound: 1, exact: true };
      const n = Array.isArray(item) ? item.length : 0;
      return { tokens: n, upperBound: n, exact: true };
    }),
  );
}
