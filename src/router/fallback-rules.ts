import type { FallbackAction } from '../resilience/schema.js';
import type { GatewayError } from '../core/errors.js';
import type { FallbackRules } from '../resilience/settings.js';

/**
 * What the router does after a deployment failed: the alias's `fallbackOn` rule for the error's
 * code. A code without a rule falls back when it is retryable (a new upstream failure added to
 * the registry later behaves like its kin) and never otherwise (internal errors, client
 * disconnects, budget refusals).
 *
 * @example fallbackAction({ rate_limited: 'next' }, new GatewayError('rate_limited', '…')) // → 'next'
 */
export function fallbackAction(rules: FallbackRules, error: GatewayError): FallbackAction {
  return rules[error.code] ?? (error.retryable ? 'next' : 'none');
}

/**
 * Whether a deployment may take over after a `larger-context` failure: its context window must
 * be known and larger than the one that failed. `minContext` null means no such failure yet.
 */
export function fitsContext(contextWindow: number | undefined, minContext: number | null): boolean {
  return minContext === null || (contextWindow !== undefined && contextWindow > minContext);
}
