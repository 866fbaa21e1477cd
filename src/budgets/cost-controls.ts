import type { Logger } from 'pino';
import { ConfigError } from '../core/config-error.js';
import type { Clock } from '../core/clock.js';
import type { CallContext } from '../core/context.js';
import type { GatewayCall, Policy } from '../core/pipeline.js';
import type { Deployment } from '../core/types.js';
import type { CallObserver } from '../observability/call-summary.js';
import { budgetPolicy, settleBudgets } from './budget-policy.js';
import type { ModelRegistry } from '../router/model-registry.js';
import type { Database } from '../storage/database.js';
import { connectRedis } from '../storage/redis.js';
import { createRedisBudgetStore } from './redis-budget-store.js';
import type { ProviderConfig } from '../providers/schema.js';
import type { AliasConfig } from '../router/schema.js';
import type { RedisConfig } from '../storage/schema.js';
import { budgetFromConfig, type BudgetsConfig } from './schema.js';
import { BudgetRegistry } from './budget-registry.js';
import { createSqlBudgetRepository } from './budget-repository.js';
import { BudgetService } from './budget-service.js';
import { ledgerSpend } from './ledger-spend.js';
import { createMemoryBudgetStore } from './memory-budget-store.js';
import type { BudgetRepository, BudgetStore, StandingsObserver } from './types.js';
import { usageCostMicros } from '../pricing/cost.js';
import type { EstimateOptions } from './cost-estimate.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Spool } from '../ledger/spool/spool.js';
import { PriceBook, type ModelPrice } from '../pricing/price-book.js';
import type { PricesConfig } from '../pricing/schema.js';
import { loadEncoding, warmUpCounting } from '../tokens/tokens.js';

/** Everything cost-related the gateway wires in: prices, pricing of finished calls, budgets and alerts. */
export interface CostControls {
  readonly prices: PriceBook;
  /** The price of a deployment (all are priced: checked at start-up). */
  priceOf(deployment: Deployment): ModelPrice;
  /** The settle policy's pricing step: sets `costMicros` and `priceVersion` on the call record. */
  price(call: GatewayCall, ctx: CallContext): void;
  readonly budgets: BudgetService;
  /** Budgets stored in SQL (keys, admin API, CLI); writes here apply on this replica at once. */
  readonly repository: BudgetRepository;
  readonly policy: Policy;
  readonly observers: CallObserver[];
  readonly estimate: EstimateOptions;
  /** Pings the Redis the budget store uses, on that same connection (for readiness); absent with the memory store. */
  readonly storePing?: () => Promise<void>;
  /** Waits for settles and alert deliveries in flight, then closes the store. */
  close(): Promise<void>;
}

/** The settings cost controls read: prices, budgets, the Redis they may use, and the deployments to price. */
export interface CostControlsConfig {
  prices: PricesConfig;
  budgets: BudgetsConfig;
  redis: RedisConfig;
  models: Readonly<Record<string, AliasConfig>>;
  providers: Readonly<Record<string, Pick<ProviderConfig, 'type'>>>;
}

export interface CostControlsOptions {
  config: CostControlsConfig;
  models: ModelRegistry;
  database: Database;
  ledger: Ledger | null;
  /** The crash spool: reservations on a store that outlives the process (Redis) are journaled there. */
  spool?: Spool | null;
  /** Usage alerts (alerts/), told every standing after a reservation or a settle; closed with the cost controls. */
  alerts: StandingsObserver | null;
  clock: Clock;
  log: Logger;
}

/**
 * Builds prices (bundled table + `prices:`), resolves every deployment's price (refusing to
 * start on an unpriced one, naming it), loads the tokenizers the deployments need, and sets up
 * budgets: the store (memory, or Redis when configured), definitions from config and SQL, the
 * reservation policy, the settle observer and usage alerts.
 */
export async function createCostControls(options: CostControlsOptions): Promise<CostControls> {
  const { config, models, database, ledger, alerts, clock, log } = options;
  const prices = new PriceBook(undefined, config.prices);
  const byDeployment = resolvePrices(config, models, prices);
  // Only the encodings the deployments count with (estimates, quotes, missing usage), so the first request is exact.
  await Promise.all([...new Set([...byDeployment.values()].map((p) => p.encoding ?? 'o200k_base'))].map(loadEncoding));
  warmUpCounting();
  const priceOf = (deployment: Deployment): ModelPrice => {
    const price = byDeployment.get(deployment.id);
    if (!price) throw new Error(`deployment ${deployment.id} has no price (checked at start-up)`);
    return price;
  };

  const { store, ping: storePing } = await openStore(config, log);
  let registry: BudgetRegistry | null = null;
  try {
    const repository = createSqlBudgetRepository(database, {
      now: () => clock.wallNow(),
      onChange: () => registry?.refresh(),
    });
    registry = await BudgetRegistry.start({
      configured: config.budgets.limits.map(budgetFromConfig),
      repository,
      refreshIntervalMs: config.budgets.refreshIntervalMs,
      log,
    });
    const budgets = new BudgetService({
      store,
      registry,
      ledgerSpend: (charge) => ledgerSpend(database, charge),
      ...(ledger ? { beforeSeed: () => ledger.flush() } : {}),
      alerts,
      reservationTtlMs: config.budgets.reservationTtlMs,
      clock,
      log,
      // A memory store dies with the process, and its reservations with it: nothing to journal.
      spool: store.kind === 'redis' ? (options.spool ?? null) : null,
    });
    const estimate: EstimateOptions = {
      countBudgetMs: config.budgets.countBudgetMs,
      defaultMaxOutputTokens: config.budgets.defaultMaxOutputTokens,
    };
    const policy = budgetPolicy({
      service: budgets,
      models,
      priceOf,
      estimate,
      meterStreams: config.budgets.meterStreams,
      log,
    });
    const activeRegistry = registry;
    return {
      prices,
      priceOf,
      price(_call, ctx) {
        const record = ctx.record;
        record.priceVersion = prices.version;
        const price = record.deployment ? byDeployment.get(record.deployment.id) : undefined;
        record.costMicros = price && record.usage ? usageCostMicros(record.usage, price) : 0;
      },
      budgets,
      repository,
      policy,
      observers: [settleBudgets()],
      estimate,
      ...(storePing ? { storePing } : {}),
      async close() {
        activeRegistry.close();
        await budgets.drain();
        await alerts?.close();
        await store.close();
      },
    };
  } catch (err) {
    registry?.close();
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Every deployment's price; a ConfigError naming each unpriced model otherwise. */
function resolvePrices(config: CostControlsConfig, models: ModelRegistry, prices: PriceBook): Map<string, ModelPrice> {
  const found = new Map<string, ModelPrice>();
  const missing: { path: string; message: string }[] = [];
  for (const alias of models.list()) {
    alias.deployments.forEach((deployment, index) => {
      const settings = config.models[alias.name]?.deployments[index];
      const providerType = config.providers[deployment.provider]?.type ?? 'unknown';
      const price = prices.forDeployment({
        id: deployment.id,
        provider: deployment.provider,
        providerType,
        model: deployment.model,
        price: settings?.price,
        priceAs: settings?.priceAs,
        free: settings?.free,
      });
      if (price) found.set(deployment.id, price);
      else
        missing.push({
          path: `models.${alias.name}.deployments.${index}`,
          message: `no price for model "${deployment.model}" (provider ${deployment.provider}); add price, priceAs or free: true`,
        });
    });
  }
  if (missing.length > 0) throw new ConfigError(missing);
  return found;
}

async function openStore(
  config: Pick<CostControlsConfig, 'budgets' | 'redis'>,
  log: Logger,
): Promise<{ store: BudgetStore; ping?: () => Promise<void> }> {
  const useRedis = config.budgets.store === 'redis' || (config.budgets.store === 'auto' && config.redis.url);
  if (!useRedis) return { store: createMemoryBudgetStore() };
  if (!config.redis.url)
    throw new ConfigError([{ path: 'redis.url', message: 'budgets.store is redis but redis.url is not set' }]);
  const redis = await connectRedis({
    url: config.redis.url,
    ...(config.redis.password ? { password: config.redis.password.reveal() } : {}),
    commandTimeoutMs: config.redis.commandTimeoutMs,
    log,
  });
  return { store: createRedisBudgetStore(redis, config.redis.keyPrefix), ping: () => redis.ping() };
}
