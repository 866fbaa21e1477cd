import type { Logger } from 'pino';
import { toBudget } from './budget-spec.js';
import { DEFAULT_TENANT, type Budget, type BudgetInput, type BudgetRepository } from './types.js';

/** Who a call is for, as budgets see it. */
export interface BudgetSubject {
  /** `null` (no key: the open embedded default) counts as tenant `default`. */
  tenant: string | null;
  keyId: string | null;
  feature: string | null;
}

/**
 * Every budget in force — the config's, fixed, and the SQL repository's, re-read every
 * `refreshIntervalMs` (and at once after a write through the repository in this process) —
 * indexed by scope, so finding a call's budgets is a few map lookups.
 *
 * @example
 * const registry = await BudgetRegistry.start({ configured, repository, refreshIntervalMs: 2000, log });
 * registry.applicable({ tenant: 'acme', keyId: 'k_1', feature: 'search' }); // global, tenant, feature and key budgets
 */
export class BudgetRegistry {
  private byScope = new Map<string, Budget[]>();
  private all: Budget[] = [];
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly configured: Budget[];

  private constructor(
    configured: readonly BudgetInput[],
    private readonly repository: BudgetRepository | null,
    private readonly log: Logger,
  ) {
    this.configured = configured.map((input) => toBudget(input, 'config'));
    this.index([]);
  }

  static async start(options: {
    configured: readonly BudgetInput[];
    repository: BudgetRepository | null;
    refreshIntervalMs: number;
    log: Logger;
  }): Promise<BudgetRegistry> {
    const registry = new BudgetRegistry(options.configured, options.repository, options.log);
    if (options.repository) {
      await registry.refresh();
      registry.timer = setInterval(() => void registry.refresh(), options.refreshIntervalMs);
      registry.timer.unref();
    }
    return registry;
  }

  /** The budgets that apply to a call: global, its tenant's, its feature's within the tenant, its key's. */
  applicable(subject: BudgetSubject): Budget[] {
    if (this.all.length === 0) return [];
    const tenant = subject.tenant ?? DEFAULT_TENANT;
    const found = [...(this.byScope.get('global') ?? []), ...(this.byScope.get(`t|${tenant}`) ?? [])];
    if (subject.feature) found.push(...(this.byScope.get(`f|${tenant}|${subject.feature}`) ?? []));
    if (subject.keyId) found.push(...(this.byScope.get(`k|${subject.keyId}`) ?? []));
    return found;
  }

  list(): readonly Budget[] {
    return this.all;
  }

  get(id: string): Budget | undefined {
    return this.all.find((b) => b.id === id);
  }

  /** Re-reads SQL budgets; on failure keeps the last good set (and says so). Concurrent calls share one read. */
  refresh(): Promise<void> {
    if (!this.repository) return Promise.resolve();
    const repository = this.repository;
    this.refreshing ??= (async () => {
      try {
        this.index(await repository.list());
      } catch (err) {
        this.log.warn({ err }, 'budgets: cannot read SQL budgets; keeping the last known set');
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private index(fromSql: readonly Budget[]): void {
    const ids = new Set(this.configured.map((b) => b.id));
    const shadowed = fromSql.filter((b) => ids.has(b.id));
    if (shadowed.length > 0)
      this.log.warn(
        { budgets: shadowed.map((b) => b.id) },
        'budgets: SQL budgets shadowed by config budgets of the same id',
      );
    const all = [...this.configured, ...fromSql.filter((b) => !ids.has(b.id))];
    const byScope = new Map<string, Budget[]>();
    for (const budget of all) {
      const key = scopeKey(budget);
      byScope.set(key, [...(byScope.get(key) ?? []), budget]);
    }
    this.all = all;
    this.byScope = byScope;
  }
}

function scopeKey(budget: Budget): string {
  const scope = budget.scope;
  switch (scope.kind) {
    case 'global':
      return 'global';
    case 'tenant':
      return `t|${scope.tenant}`;
    case 'feature':
      return `f|${scope.tenant}|${scope.feature}`;
    case 'key':
      return `k|${scope.keyId}`;
  }
}
