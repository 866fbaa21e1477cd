import { formatMicros } from '../pricing/money.js';
import { decideBudgets } from './budget-decision.js';
import type { Budget, BudgetStanding } from './types.js';
import type { CostControls } from './cost-controls.js';
import { estimateAlias, type CostEstimate } from './cost-estimate.js';
import type { Principal } from '../core/context.js';
import type { GatewayCall } from '../core/pipeline.js';
import type { ModelRegistry } from '../router/model-registry.js';

export interface QuoteBudget {
  id: string;
  scope: Budget['scope'];
  window: Budget['window'];
  window_key: string;
  action: Budget['action'];
  limit_micros: number;
  spent_micros: number | null;
  reserved_micros: number | null;
  remaining_micros: number | null;
  would_exceed: boolean;
}

export interface Quote {
  object: 'tollgate.quote';
  model: string;
  deployment: string;
  upstream_model: string;
  price: {
    source: string;
    version: string;
    input_per_mtok_micros: number;
    cached_input_per_mtok_micros: number;
    cache_write_per_mtok_micros: number;
    output_per_mtok_micros: number;
  };
  tokens: { prompt: number; prompt_exact: boolean; prompt_max: number; output_max: number };
  estimated_max_cost: { micros: number; usd: string };
  budgets: QuoteBudget[];
  limits: {
    context_window: number | null;
    max_output_tokens: number | null;
    rate_limits: { rpm: number | null; tpm: number | null } | null;
  };
  decision: 'admit' | 'deny' | 'downgrade';
  downgrade_to?: string;
  reasons: string[];
}

export interface QuoteSubject {
  principal: Principal;
  feature: string | null;
}

/**
 * A dry run of a call: its tokens, the most it can cost, the budgets and limits that would
 * apply (with their standing), and whether it would be admitted. Reserves and spends nothing
 * (unknown counters are seeded from the ledger, which is only a read of the truth).
 *
 * @example const quote = await quoteCall(call, { principal, feature: null }, gateway.models, gateway.costs);
 */
export async function quoteCall(
  call: GatewayCall,
  subject: QuoteSubject,
  models: ModelRegistry,
  costs: CostControls,
): Promise<Quote> {
  const alias = models.resolve(call.request.model, call.kind === 'embeddings' ? 'embeddings' : 'chat');
  const estimate = estimateAlias(call, models, (d) => costs.priceOf(d), costs.estimate)!;
  const deployment = estimate.deployment;
  const reasons: string[] = [];
  const allowed = subject.principal.allowedModels;
  if (allowed !== null && !allowed.includes(alias.name)) reasons.push(`this key may not use ${alias.name}`);
  const window = estimate.price.contextWindow;
  if (call.kind === 'chat' && window !== null && estimate.prompt.tokens + estimate.outputTokensMax > window)
    reasons.push(
      `prompt (${estimate.prompt.tokens}) plus max output (${estimate.outputTokensMax}) exceeds the context window (${window}); lower max_tokens`,
    );

  const applicable = costs.budgets.applicable({
    tenant: subject.principal.tenant,
    keyId: subject.principal.keyId,
    feature: subject.feature,
  });
  const charges = costs.budgets.charges(applicable);
  let standings: BudgetStanding[] = [];
  let storeError: string | null = null;
  try {
    standings = await costs.budgets.standings(charges);
  } catch (err) {
    storeError = err instanceof Error ? err.message : String(err);
  }
  const budgets = charges.map((charge): QuoteBudget => {
    const standing = standings.find((s) => s.budgetId === charge.budget.id) ?? null;
    const used = standing ? standing.spentMicros + standing.reservedMicros : null;
    return {
      id: charge.budget.id,
      scope: charge.budget.scope,
      window: charge.budget.window,
      window_key: charge.windowKey,
      action: charge.budget.action,
      limit_micros: charge.budget.limitMicros,
      spent_micros: standing?.spentMicros ?? null,
      reserved_micros: standing?.reservedMicros ?? null,
      remaining_micros: used === null ? null : Math.max(0, charge.budget.limitMicros - used),
      would_exceed: used !== null && used + estimate.maxCostMicros > charge.budget.limitMicros,
    };
  });

  let decision: Quote['decision'] = 'admit';
  let downgradeTo: string | undefined;
  if (storeError !== null && !charges.every((c) => c.budget.failOpen)) {
    reasons.push(`budget counters unreachable (${storeError}); fail-closed budgets refuse calls`);
  }
  const blocking = budgets.filter((b) => b.would_exceed && b.action !== 'soft');
  for (const b of blocking)
    reasons.push(
      `budget "${b.id}" would be exceeded: ${formatMicros(b.limit_micros - (b.remaining_micros ?? 0))} of ${formatMicros(b.limit_micros)} spent or reserved`,
    );
  if (reasons.length > 0) decision = 'deny';
  // The budgets' own say, as the budget policy hears it; only when nothing else refuses the call.
  const over = charges.filter((c, i) => budgets[i]!.would_exceed).map((c) => c.budget);
  const verdict = decideBudgets(over, alias.name, (name) => models.has(name));
  if (verdict.decision === 'downgrade' && reasons.length === blocking.length) {
    const target = verdict.to;
    const cheaper = await quoteCall(
      { ...call, request: { ...call.request, model: target } } as GatewayCall,
      subject,
      models,
      costs,
    );
    if (cheaper.decision === 'admit') {
      decision = 'downgrade';
      downgradeTo = target;
    }
  }
  for (const b of budgets.filter((b) => b.would_exceed && b.action === 'soft'))
    reasons.push(`soft budget "${b.id}" would be exceeded (allowed, alerts fire)`);

  return {
    object: 'tollgate.quote',
    model: alias.name,
    deployment: deployment.id,
    upstream_model: deployment.model,
    price: priceOf(estimate, costs.prices.version),
    tokens: {
      prompt: estimate.prompt.tokens,
      prompt_exact: estimate.prompt.exact,
      prompt_max: estimate.promptTokensMax,
      output_max: estimate.outputTokensMax,
    },
    estimated_max_cost: { micros: estimate.maxCostMicros, usd: formatMicros(estimate.maxCostMicros) },
    budgets,
    limits: {
      context_window: estimate.price.contextWindow,
      max_output_tokens: estimate.price.maxOutputTokens,
      rate_limits: rateLimitsOf(subject.principal),
    },
    decision,
    ...(downgradeTo ? { downgrade_to: downgradeTo } : {}),
    reasons,
  };
}

/** The key's stored rate limits, when the principal carries them (virtual keys). */
function rateLimitsOf(principal: Principal): Quote['limits']['rate_limits'] {
  const limits = (principal as { rateLimits?: { rpm: number | null; tpm: number | null } }).rateLimits;
  return limits ? { rpm: limits.rpm, tpm: limits.tpm } : null;
}

function priceOf(estimate: CostEstimate, version: string): Quote['price'] {
  const p = estimate.price;
  return {
    source: p.key,
    version,
    input_per_mtok_micros: p.input,
    cached_input_per_mtok_micros: p.cachedInput,
    cache_write_per_mtok_micros: p.cacheWrite,
    output_per_mtok_micros: p.output,
  };
}
