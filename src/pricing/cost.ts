import type { Usage } from '../core/types.js';
import type { ModelPrice } from './price-book.js';

/**
 * Money is integer micro-dollars (1 USD = 1_000_000). Prices are integer micro-dollars per
 * million tokens, i.e. pico-dollars per token, so `tokens × price` is an exact integer in
 * pico-dollars; it is summed exactly (BigInt) and converted to micro-dollars once per call,
 * rounded up: a call is never recorded as cheaper than it was, and a sum of rows is the sum
 * of integers, never of floats.
 */

/** Tokens of one call, split by how they are billed. */
export interface BilledTokens {
  /** Prompt tokens billed at the input price (prompt − cache reads − cache writes). */
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
}

/**
 * Splits an OpenAI-shaped usage: `prompt_tokens` includes `cached_tokens` (OpenAI's rule) and
 * `cache_write_tokens` (how the Anthropic adapter reports `cache_creation_input_tokens`);
 * `completion_tokens` includes reasoning tokens.
 */
export function billedTokens(usage: Usage | null | undefined): BilledTokens {
  if (!usage) return { input: 0, cachedInput: 0, cacheWrite: 0, output: 0 };
  const cachedInput = nonNegative(usage.prompt_tokens_details?.cached_tokens);
  const cacheWrite = nonNegative(usage.prompt_tokens_details?.cache_write_tokens);
  const prompt = nonNegative(usage.prompt_tokens);
  return {
    input: Math.max(0, prompt - cachedInput - cacheWrite),
    cachedInput: Math.min(cachedInput, prompt),
    cacheWrite: Math.min(cacheWrite, Math.max(0, prompt - cachedInput)),
    output: nonNegative(usage.completion_tokens),
  };
}

/**
 * The cost of a call in integer micro-dollars, rounded up.
 *
 * @example
 * // gpt-4o-mini: 150_000 µ$/MTok in, 600_000 µ$/MTok out
 * costMicros({ input: 1000, cachedInput: 0, cacheWrite: 0, output: 500 }, price) // → 450 (150 + 300)
 */
export function costMicros(tokens: BilledTokens, price: ModelPrice): number {
  const pico =
    BigInt(tokens.input) * BigInt(price.input) +
    BigInt(tokens.cachedInput) * BigInt(price.cachedInput) +
    BigInt(tokens.cacheWrite) * BigInt(price.cacheWrite) +
    BigInt(tokens.output) * BigInt(price.output);
  return Number((pico + 999_999n) / 1_000_000n);
}

/** The cost of a usage report under a price. */
export function usageCostMicros(usage: Usage | null | undefined, price: ModelPrice): number {
  return costMicros(billedTokens(usage), price);
}

/** Sums micro-dollar amounts, refusing anything that is not a safe integer. */
export function sumMicros(amounts: Iterable<number>): number {
  let total = 0;
  for (const amount of amounts) {
    if (!Number.isSafeInteger(amount)) throw new RangeError(`not an integer micro-dollar amount: ${amount}`);
    total += amount;
    if (!Number.isSafeInteger(total)) throw new RangeError('sum exceeds Number.MAX_SAFE_INTEGER micro-dollars');
  }
  return total;
}

function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
