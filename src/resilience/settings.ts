import {
  BREAKER_DEFAULTS,
  FALLBACK_DEFAULTS,
  RETRY_DEFAULTS,
  type BreakerInput,
  type DeploymentTimeoutsInput,
  type FallbackAction,
  type FallbackOnInput,
  type AliasResilience,
  type DeploymentResilience,
  type ResilienceConfig,
  type RetryInput,
  type Strategy,
} from './schema.js';

export interface RetrySettings {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: 'full' | 'none';
  readonly retryAfterMaxMs: number;
  readonly budget: { readonly ratio: number; readonly windowMs: number; readonly minRetries: number };
}

export type BreakerSettings = typeof BREAKER_DEFAULTS;

export interface TimeoutSettings {
  readonly firstByteMs: number;
  readonly stallMs: number;
  readonly totalMs: number;
}

export type FallbackRules = Readonly<Record<string, FallbackAction>>;

/** Everything the per-deployment pipeline needs about one deployment, resolved once at start-up. */
export interface DeploymentSettings {
  readonly retry: RetrySettings;
  readonly breaker: BreakerSettings;
  readonly timeouts: TimeoutSettings;
  readonly priority: number;
  readonly weight: number;
  readonly contextWindow: number | undefined;
  /** Cap of a pause remembered from an upstream's `retry-after` (`resilience.maxPauseMs`). */
  readonly maxPauseMs: number;
}

/** The alias-level settings the router uses. */
export interface AliasSettings {
  readonly strategy: Strategy;
  readonly fallbackOn: FallbackRules;
  readonly degradedMessage: string | undefined;
}

/** The provider's timeouts (`providers.<name>.timeouts`), the base the alias and deployment override. */
export type ProviderTimeouts = Pick<TimeoutSettings, 'firstByteMs' | 'stallMs' | 'totalMs'>;

/** Later layers win, field by field (the retry budget too). */
export function mergeRetry(...layers: (RetryInput | undefined)[]): RetrySettings {
  let merged: RetrySettings = RETRY_DEFAULTS;
  for (const layer of layers) {
    if (!layer) continue;
    merged = { ...merged, ...defined(layer), budget: { ...merged.budget, ...defined(layer.budget ?? {}) } };
  }
  return merged;
}

export function mergeBreaker(...layers: (BreakerInput | undefined)[]): BreakerSettings {
  return layers.reduce<BreakerSettings>((merged, layer) => ({ ...merged, ...defined(layer ?? {}) }), BREAKER_DEFAULTS);
}

/** Timeouts: the provider's, then the alias's, then the deployment's. */
export function mergeTimeouts(
  provider: ProviderTimeouts,
  ...layers: (DeploymentTimeoutsInput | undefined)[]
): TimeoutSettings {
  const base: TimeoutSettings = {
    firstByteMs: provider.firstByteMs,
    stallMs: provider.stallMs,
    totalMs: provider.totalMs,
  };
  return layers.reduce<TimeoutSettings>((merged, layer) => ({ ...merged, ...defined(layer ?? {}) }), base);
}

export function mergeFallbackOn(...layers: (FallbackOnInput | undefined)[]): FallbackRules {
  return layers.reduce<FallbackRules>((merged, layer) => ({ ...merged, ...defined(layer ?? {}) }), FALLBACK_DEFAULTS);
}

/**
 * @example resolveDeployment(config.resilience, config.models.chat, config.models.chat.deployments[0], 0, providerTimeouts)
 *   // → { retry: { maxAttempts: 2, ... }, breaker: {...}, timeouts: {...}, priority: 0, weight: 1, contextWindow: undefined }
 */
export function resolveDeployment(
  global: ResilienceConfig,
  alias: AliasResilience,
  deployment: DeploymentResilience,
  index: number,
  providerTimeouts: ProviderTimeouts,
): DeploymentSettings {
  return Object.freeze({
    retry: mergeRetry(global.retry, alias.retry, deployment.retry),
    breaker: mergeBreaker(global.breaker, alias.breaker, deployment.breaker),
    timeouts: mergeTimeouts(providerTimeouts, alias.timeouts, deployment.timeouts),
    priority: deployment.priority ?? index,
    weight: deployment.weight,
    contextWindow: deployment.contextWindow,
    maxPauseMs: global.maxPauseMs,
  });
}

export function resolveAlias(global: ResilienceConfig, alias: AliasResilience): AliasSettings {
  return Object.freeze({
    strategy: alias.strategy ?? global.strategy,
    fallbackOn: Object.freeze(mergeFallbackOn(global.fallbackOn, alias.fallbackOn)),
    degradedMessage: alias.degraded?.message,
  });
}

/** Drops keys whose value is undefined, so a spread does not erase the layer below. */
function defined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
