import { PriceBook } from '../pricing/price-book.js';
import type { ModelPriceInput } from '../pricing/schema.js';

/** The parts of a validated config the cost checks read. */
export interface CostCheckInput {
  providers: Readonly<Record<string, { type: string }>>;
  models: Readonly<
    Record<
      string,
      {
        deployments: readonly {
          id?: string | undefined;
          provider: string;
          model: string;
          price?: ModelPriceInput | undefined;
          priceAs?: string | undefined;
          free?: true | undefined;
        }[];
      }
    >
  >;
  prices: Readonly<Record<string, Readonly<Record<string, ModelPriceInput>>>>;
  ledger: { enabled: boolean };
  budgets: {
    store: string;
    limits: readonly { id?: string | undefined; downgradeTo?: string | undefined; window: string }[];
  };
  redis: { url?: string | undefined };
}

export interface CostIssue {
  path: (string | number)[];
  message: string;
}

/**
 * What would make cost accounting wrong, found at start-up rather than on the invoice:
 * - a deployment whose model has no price (never a silent $0: say `price`, `priceAs` or `free`);
 * - more than one pricing field on one deployment, or a `priceAs` naming nothing;
 * - a budget downgrading to an alias that does not exist;
 * - budgets without the ledger (counters could not be rebuilt after a restart or a Redis loss),
 *   or on Redis without a Redis URL.
 *
 * @example findCostIssues(config) // → [{ path: ['models', 'fast', 'deployments', 0], message: 'no price for model "llama-3" …' }]
 */
export function findCostIssues(config: CostCheckInput, book = new PriceBook(undefined, config.prices)): CostIssue[] {
  const issues: CostIssue[] = [];
  for (const [alias, entry] of Object.entries(config.models)) {
    entry.deployments.forEach((deployment, index) => {
      const path = ['models', alias, 'deployments', index];
      const fields = (['price', 'priceAs', 'free'] as const).filter((f) => deployment[f] !== undefined);
      if (fields.length > 1) {
        issues.push({ path, message: `give at most one of price, priceAs, free (got ${fields.join(', ')})` });
        return;
      }
      const providerType = config.providers[deployment.provider]?.type;
      if (providerType === undefined) return; // reported as an unknown provider
      const price = book.forDeployment({
        id: deployment.id ?? `${alias}#${index}`,
        provider: deployment.provider,
        providerType,
        model: deployment.model,
        price: deployment.price,
        priceAs: deployment.priceAs,
        free: deployment.free,
      });
      if (price) return;
      issues.push({
        path: deployment.priceAs ? [...path, 'priceAs'] : path,
        message: deployment.priceAs
          ? `priceAs "${deployment.priceAs}" names no price in the bundled table (version ${book.version}) or in prices:`
          : `no price for model "${deployment.model}" (provider ${deployment.provider}, type ${providerType}); ` +
            `add price: { inputPerMTok, outputPerMTok, maxOutputTokens } or priceAs: <provider>/<model> or free: true ` +
            `to the deployment, or a prices.${deployment.provider}.${deployment.model} entry — Tollgate never records a silent $0`,
      });
    });
  }
  config.budgets.limits.forEach((limit, index) => {
    if (limit.downgradeTo !== undefined && !(limit.downgradeTo in config.models))
      issues.push({
        path: ['budgets', 'limits', index, 'downgradeTo'],
        message: `unknown alias "${limit.downgradeTo}" (configured: ${Object.keys(config.models).join(', ') || 'none'})`,
      });
  });
  if (config.budgets.store === 'redis' && !config.redis.url)
    issues.push({ path: ['redis', 'url'], message: 'budgets.store is redis: set redis.url' });
  if (config.budgets.limits.length > 0 && !config.ledger.enabled)
    issues.push({
      path: ['ledger', 'enabled'],
      message: 'budgets need the ledger: it is the source of truth their counters are rebuilt from',
    });
  return issues;
}
