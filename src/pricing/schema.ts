import { z } from 'zod';

/**
 * A price per million tokens in dollars: a number or a decimal string (`0.15`, `"0.075"`), at
 * most 6 decimals. Kept as text here; `dollarsToMicros` turns it into exact integer
 * micro-dollars per million tokens (= pico-dollars per token).
 */
const dollars = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d+(\.\d{1,6})?$/, 'a dollar amount with at most 6 decimals'),
]);

/** One model's prices and limits, as in the bundled table and in the config's `prices:`. */
export const modelPriceSchema = z
  .object({
    /** Input tokens (not cached). */
    inputPerMTok: dollars,
    outputPerMTok: dollars,
    /** Cache reads (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`). Default: the input price. */
    cachedInputPerMTok: dollars.optional(),
    /** Cache writes (Anthropic `cache_creation_input_tokens`, 5-minute TTL). Default: the input price. */
    cacheWritePerMTok: dollars.optional(),
    contextWindow: z.number().int().positive().optional(),
    /** The most output tokens one call can produce: what a budget reservation assumes when the client sets no lower `max_tokens`. */
    maxOutputTokens: z.number().int().nonnegative().optional(),
    /** Local tokenizer; absent = none exact (estimates with o200k_base plus a margin). */
    encoding: z.enum(['o200k_base', 'cl100k_base']).optional(),
    /** Upper bound of the tokens one image part can cost (reservations). Default 4,000. */
    imageTokensMax: z.number().int().nonnegative().optional(),
  })
  .strict();

export type ModelPriceInput = z.infer<typeof modelPriceSchema>;

/** `prices:` in the config: `<provider id or type>: { <model>: ModelPrice }`, overriding and extending the bundled table. */
export const pricesConfigSchema = z
  .record(z.string().min(1), z.record(z.string().min(1), modelPriceSchema))
  .default({});
export type PricesConfig = z.infer<typeof pricesConfigSchema>;

/** How one deployment is priced, besides the table. At most one of the three. */
export const deploymentPricingFields = {
  /** Inline prices for this deployment's model. */
  price: modelPriceSchema.optional(),
  /** Price as another table entry, `provider/model` (e.g. `openai/gpt-4o-mini`). */
  priceAs: z
    .string()
    .regex(/^[^/]+\/.+$/, 'provider/model, e.g. openai/gpt-4o-mini')
    .optional(),
  /** The model costs nothing (self-hosted, a test double): recorded as 0, on purpose. */
  free: z.literal(true).optional(),
};

/** The bundled table's file shape. */
export const priceTableSchema = z
  .object({
    version: z.string().min(1),
    sourceDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    note: z.string(),
    providers: z.record(z.string(), z.record(z.string(), modelPriceSchema)),
    aliases: z.record(z.string(), z.record(z.string(), z.string())).default({}),
  })
  .strict();

export type PriceTable = z.infer<typeof priceTableSchema>;
