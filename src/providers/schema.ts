import { z } from 'zod';
import { secretSchema } from '../core/secret.js';
import { mockScenarioSchema } from '../mock/schema.js';

/* `providers.<name>`: the upstreams, one schema per `type`. */

const durationMs = z.number().int().nonnegative();

export const timeoutsSchema = z
  .object({
    /** TCP connect. */
    connectMs: durationMs.default(5_000),
    /** Until the upstream's response headers (for streams, the commit point). */
    firstByteMs: durationMs.default(60_000),
    /** Longest silence between two stream chunks / body bytes. */
    stallMs: durationMs.default(30_000),
    /** Whole call. 0 = no limit beyond the others. */
    totalMs: durationMs.default(600_000),
  })
  .strict();

const providerBase = {
  /** Extra headers sent upstream on every call. */
  headers: z.record(z.string(), z.string()).default({}),
  timeouts: timeoutsSchema.prefault({}),
};

/** Fields of the providers that call an HTTP upstream (openai, anthropic). */
const httpFields = {
  /** Keep-alive connections per upstream origin. */
  connections: z.number().int().positive().default(128),
  /** Client request headers copied upstream: exact names or `prefix*` (e.g. `x-mock-*`, `openai-organization`). */
  forwardHeaders: z
    .array(
      z
        .string()
        .min(1)
        .transform((h) => h.toLowerCase()),
    )
    .default([]),
};

export const openaiProviderSchema = z
  .object({
    type: z.literal('openai'),
    baseUrl: z.url().default('https://api.openai.com/v1'),
    apiKey: secretSchema.optional(),
    ...httpFields,
    /**
     * The field that carries the output limit upstream: `auto` sends `max_completion_tokens` to
     * api.openai.com and for OpenAI's reasoning/new models (o1, o3, gpt-5…), `max_tokens` otherwise.
     */
    outputLimitField: z.enum(['auto', 'max_completion_tokens', 'max_tokens']).default('auto'),
    ...providerBase,
  })
  .strict();

export const anthropicProviderSchema = z
  .object({
    type: z.literal('anthropic'),
    /** The API origin, without `/v1` (as `ANTHROPIC_BASE_URL`): requests go to `<baseUrl>/v1/messages`. */
    baseUrl: z.url().default('https://api.anthropic.com'),
    /** Sent as `x-api-key`. */
    apiKey: secretSchema.optional(),
    /** Sent as `anthropic-version`. */
    version: z.string().min(1).default('2023-06-01'),
    /** `max_tokens` when the client sets none (Anthropic requires it). */
    defaultMaxTokens: z.number().int().positive().default(4096),
    ...httpFields,
    ...providerBase,
  })
  .strict();

export const mockProviderSchema = z
  .object({
    type: z.literal('mock'),
    /** Seed for the deterministic generator and the failure-injection draws. */
    seed: z.number().int().default(42),
    scenario: mockScenarioSchema.prefault({}),
    ...providerBase,
  })
  .strict();

export const providerSchema = z.discriminatedUnion('type', [
  openaiProviderSchema,
  mockProviderSchema,
  anthropicProviderSchema,
]);

export type ProviderConfig = z.infer<typeof providerSchema>;
export type OpenAIProviderConfig = z.infer<typeof openaiProviderSchema>;
export type MockProviderConfig = z.infer<typeof mockProviderSchema>;
export type AnthropicProviderConfig = z.infer<typeof anthropicProviderSchema>;
export type TimeoutsConfig = z.infer<typeof timeoutsSchema>;
