import { z } from 'zod';

/**
 * Resilience settings: retry (with its budget), circuit breaker, timeouts, fallback conditions,
 * load-balancing strategy and the degraded answer. Defaults live in `resilience` (top level);
 * an alias and each of its deployments may override any field. Override objects carry
 * `meta({ sameFieldsAs })`, so docs/configuration.md documents their fields once.
 *
 * Every field is optional here and the defaults are applied when settings are resolved
 * (`resolveResilience`): zod would otherwise fill an override's unset fields with defaults and
 * mask the level below it.
 */

const durationMs = z.number().int().nonnegative();

export const RETRY_DEFAULTS = {
  maxAttempts: 2,
  initialDelayMs: 200,
  maxDelayMs: 2_000,
  jitter: 'full' as 'full' | 'none',
  retryAfterMaxMs: 2_000,
  budget: { ratio: 0.2, windowMs: 10_000, minRetries: 3 },
};

export const BREAKER_DEFAULTS = {
  consecutiveFailures: 5,
  failureRatio: 0.5,
  minimumCalls: 20,
  windowMs: 30_000,
  openMs: 10_000,
  maxOpenMs: 120_000,
  halfOpenProbes: 3,
};

/** What the router does after a deployment failed with a given error code. */
export const FALLBACK_ACTIONS = ['next', 'larger-context', 'none'] as const;
export type FallbackAction = (typeof FALLBACK_ACTIONS)[number];

export const FALLBACK_DEFAULTS = {
  rate_limited: 'next',
  upstream_error: 'next',
  upstream_timeout: 'next',
  upstream_unavailable: 'next',
  upstream_auth_failed: 'next',
  context_length_exceeded: 'larger-context',
  content_filtered: 'none',
  upstream_bad_request: 'none',
} as const satisfies Record<string, FallbackAction>;

export const STRATEGIES = ['priority', 'weighted', 'least-inflight', 'latency'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const budgetSchema = z
  .object({
    /** Retries allowed per first attempt over the window (0.2 = retries ≤ 20 % of recent traffic). */
    ratio: z.number().min(0).max(10).optional(),
    /** How far back "recent traffic" reaches. */
    windowMs: z.number().int().positive().optional(),
    /** Retries always allowed per window, so a quiet deployment may still retry. */
    minRetries: z.number().int().nonnegative().optional(),
  })
  .strict();

export const retrySchema = z
  .object({
    /** Attempts on one deployment, the first included (1 = no retry). */
    maxAttempts: z.number().int().min(1).max(10).optional(),
    initialDelayMs: durationMs.optional(),
    maxDelayMs: durationMs.optional(),
    jitter: z.enum(['full', 'none']).optional(),
    /** Longest upstream `retry-after` waited for; a longer one ends retries on this deployment. */
    retryAfterMaxMs: durationMs.optional(),
    budget: budgetSchema.optional(),
  })
  .strict();

export const breakerSchema = z
  .object({
    /** Consecutive failures that open the circuit (0 = never on this rule). */
    consecutiveFailures: z.number().int().nonnegative().optional(),
    /** Failure share over `windowMs` that opens the circuit, once `minimumCalls` calls were seen (0 = never). */
    failureRatio: z.number().min(0).max(1).optional(),
    minimumCalls: z.number().int().positive().optional(),
    windowMs: z.number().int().positive().optional(),
    /** First open period; it doubles on each failed probe, up to `maxOpenMs`. */
    openMs: z.number().int().positive().optional(),
    maxOpenMs: z.number().int().positive().optional(),
    /** Probe calls admitted while half-open; that many successes close the circuit, one failure reopens it. */
    halfOpenProbes: z.number().int().positive().optional(),
  })
  .strict();

export const deploymentTimeoutsSchema = z
  .object({
    /** Until the response (non-stream) or the first content chunk (stream); includes connecting. */
    firstByteMs: durationMs.optional(),
    /** Longest silence between two stream chunks. */
    stallMs: durationMs.optional(),
    /** One attempt, start to end. */
    totalMs: durationMs.optional(),
  })
  .strict();

const fallbackActionSchema = z.enum(FALLBACK_ACTIONS);

export const fallbackOnSchema = z
  .object(
    Object.fromEntries(Object.keys(FALLBACK_DEFAULTS).map((code) => [code, fallbackActionSchema.optional()])) as {
      [K in keyof typeof FALLBACK_DEFAULTS]: z.ZodOptional<typeof fallbackActionSchema>;
    },
  )
  .strict();

export const degradedSchema = z
  .object({
    /** Sent as the assistant's reply (status 200, `x-tollgate-degraded: true`) when every deployment failed. */
    message: z.string().min(1),
  })
  .strict();

const overrides = {
  retry: retrySchema.meta({ sameFieldsAs: 'resilience.retry' }).optional(),
  breaker: breakerSchema.meta({ sameFieldsAs: 'resilience.breaker' }).optional(),
  timeouts: deploymentTimeoutsSchema.meta({ sameFieldsAs: 'providers.<name>.timeouts' }).optional(),
};

/** Fields added to an alias (`models.<name>`). */
export const aliasResilienceFields = {
  strategy: z.enum(STRATEGIES).optional(),
  fallbackOn: fallbackOnSchema.meta({ sameFieldsAs: 'resilience.fallbackOn' }).optional(),
  degraded: degradedSchema.optional(),
  ...overrides,
};

/** Fields added to a deployment (`models.<name>.deployments[]`). */
export const deploymentResilienceFields = {
  /** Lower is preferred; deployments of equal priority share traffic by the alias's strategy. Default: list position. */
  priority: z.number().int().optional(),
  /** Share of traffic among equal-priority deployments (`weighted`). */
  weight: z.number().positive().default(1),
  /** Context window in tokens, for `larger-context` fallback. */
  contextWindow: z.number().int().positive().optional(),
  ...overrides,
};

/** The top-level `resilience` section: defaults for every alias and deployment. */
export const resilienceSchema = z
  .object({
    strategy: z.enum(STRATEGIES).default('weighted'),
    /** Longest pause remembered from an upstream's `retry-after` (429/503/529); 0 = not remembered. */
    maxPauseMs: durationMs.default(60_000),
    retry: retrySchema.prefault({}),
    breaker: breakerSchema.prefault({}),
    fallbackOn: fallbackOnSchema.prefault({}),
  })
  .strict();

export type RetryInput = z.infer<typeof retrySchema>;
export type BreakerInput = z.infer<typeof breakerSchema>;
export type DeploymentTimeoutsInput = z.infer<typeof deploymentTimeoutsSchema>;
export type FallbackOnInput = z.infer<typeof fallbackOnSchema>;
export type ResilienceConfig = z.infer<typeof resilienceSchema>;
/** An alias's resilience settings (`models.<name>`, the fields above), with its deployments'. */
export type AliasResilience = z.infer<z.ZodObject<typeof aliasResilienceFields>> & {
  readonly deployments: readonly DeploymentResilience[];
};
/** A deployment's resilience settings (`models.<name>.deployments[]`). */
export type DeploymentResilience = z.infer<z.ZodObject<typeof deploymentResilienceFields>>;
