import { availableParallelism } from 'node:os';

/** The most worker processes `server.workers` accepts (each holds its own pools and caches). */
export const MAX_WORKERS = 256;

/** The parts of a config the worker checks read. */
export interface WorkerCheckInput {
  server: { workers: number | 'auto' };
  storage: { url: string };
  budgets: { store: string };
  redis: { url?: string | undefined };
}

export interface WorkerIssue {
  path: (string | number)[];
  message: string;
}

/**
 * How many worker processes `server.workers` means on this machine (`auto`: available parallelism).
 *
 * @example workerCount({ server: { workers: 'auto' } }) // → 8 on an 8-core machine
 */
export function workerCount(config: Pick<WorkerCheckInput, 'server'>): number {
  const { workers } = config.server;
  return workers === 'auto' ? Math.min(MAX_WORKERS, Math.max(1, availableParallelism())) : workers;
}

/**
 * What several worker processes cannot share, found at start-up rather than as a budget overspent
 * N times: budget counters in process memory (each worker would enforce its own copy of every
 * limit), and an in-memory SQLite database (each worker would keep its own ledger and keys).
 * `auto` counts as several whatever this machine has, so a config valid here is valid on every host.
 *
 * @example findWorkerIssues({ server: { workers: 2 }, storage: { url: 'sqlite:x.db' }, budgets: { store: 'auto' }, redis: {} })
 *   // → [{ path: ['budgets', 'store'], message: 'server.workers is 2: … set redis.url …' }]
 */
export function findWorkerIssues(config: WorkerCheckInput): WorkerIssue[] {
  const { workers } = config.server;
  if (workers === 1) return [];
  const issues: WorkerIssue[] = [];
  const usesRedis = config.budgets.store === 'redis' || (config.budgets.store === 'auto' && config.redis.url);
  if (!usesRedis) {
    issues.push({
      path: ['budgets', 'store'],
      message:
        `server.workers is ${workers}: budget counters must be shared by every worker, so they need Redis — ` +
        (config.budgets.store === 'memory'
          ? 'set budgets.store: redis (or auto) and redis.url'
          : 'set redis.url (budgets.store auto or redis)') +
        '; with the memory store each worker would enforce its own copy of every budget. Or set server.workers: 1',
    });
  }
  if (config.storage.url === 'sqlite::memory:') {
    issues.push({
      path: ['storage', 'url'],
      message: `server.workers is ${workers}: an in-memory database would be one per worker (ledger, keys); use a sqlite file or postgres://`,
    });
  }
  return issues;
}
