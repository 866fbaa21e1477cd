import type { Command } from 'commander';
import { budgetFromConfig } from '../budgets/schema.js';
import { createSqlBudgetRepository } from '../budgets/budget-repository.js';
import { describeScope, parseBudgetSpec, toBudget } from '../budgets/budget-spec.js';
import { formatMicros } from '../pricing/money.js';
import { ledgerSpend } from '../budgets/ledger-spend.js';
import { BUDGET_ACTIONS, DEFAULT_TENANT, type Budget, type BudgetInput } from '../budgets/types.js';
import { chargeFor } from '../budgets/windows.js';
import { CliError, list, withStorage, type StorageOptions } from './open-storage.js';
import { formatTable } from './table.js';

interface SetOptions extends StorageOptions {
  id?: string;
  tenant?: string;
  feature?: string;
  key?: string;
  global?: boolean;
  limit: string;
  action?: string;
  downgradeTo?: string;
  thresholds?: string;
  failOpen?: boolean;
}

/**
 * `tollgate budgets list|set|delete`: budgets stored in SQL (the ones keys, tenants and the admin
 * API create), against the configured database. Running gateways apply a change within
 * `budgets.refreshIntervalMs`; counters keep their spend (only the limit changes). Budgets defined
 * in the config file are listed but changed only there.
 */
export function registerBudgetCommands(program: Command): void {
  const budgets = program.command('budgets').description('list and change budgets (against the configured database)');
  const configOption = ['-c, --config <path>', 'config file'] as const;

  budgets
    .command('list')
    .description("every budget, with this window's spend according to the ledger")
    .option(...configOption)
    .option('--json', 'print JSON')
    .action((options: StorageOptions & { json?: boolean }) =>
      withStorage(options, async (database, config) => {
        const fromConfig = config.budgets.limits.map((limit) => toBudget(budgetFromConfig(limit), 'config'));
        const fromSql = await createSqlBudgetRepository(database).list();
        const now = Date.now();
        const rows = [];
        for (const budget of [...fromConfig, ...fromSql]) {
          const charge = chargeFor(budget, now);
          const spent = await ledgerSpend(database, charge);
          rows.push({ budget, window: charge.windowKey, spent });
        }
        if (options.json) {
          console.log(
            JSON.stringify(
              rows.map(({ budget, window, spent }) => ({ ...budget, windowKey: window, spentMicros: spent })),
              null,
              2,
            ),
          );
          return;
        }
        const table = rows.map(({ budget, window, spent }) => [
          budget.id,
          describeScope(budget.scope),
          window,
          budget.action + (budget.downgradeTo ? ` → ${budget.downgradeTo}` : ''),
          formatMicros(budget.limitMicros),
          formatMicros(spent),
          budget.limitMicros === 0 ? '-' : `${Math.floor((spent * 100) / budget.limitMicros)}%`,
          budget.source,
        ]);
        console.log(formatTable([['ID', 'SCOPE', 'WINDOW', 'ACTION', 'LIMIT', 'SPENT', 'USED', 'SOURCE'], ...table]));
      }),
    );

  budgets
    .command('set')
    .description(
      'create or change a budget: --limit 75/month with --tenant, --feature (and --tenant), --key or --global',
    )
    .option(...configOption)
    .requiredOption('--limit <usd/window>', 'the limit and its window, e.g. 75/month, 5/day, 1000/total')
    .option('--tenant <id>', 'scope: a tenant (with --feature: the feature within it)')
    .option('--feature <name>', `scope: a feature within --tenant (default tenant "${DEFAULT_TENANT}")`)
    .option('--key <id>', 'scope: a virtual key')
    .option('--global', 'scope: all traffic')
    .option('--id <id>', 'the budget id (default: derived from the scope and window, e.g. tenant:acme:monthly)')
    .option('--action <action>', `${BUDGET_ACTIONS.join(' | ')} (default hard)`)
    .option('--downgrade-to <alias>', 'for --action downgrade: the cheaper alias')
    .option('--thresholds <percents>', 'alert thresholds, comma-separated (default 50,80,100)')
    .option('--fail-open', 'allow calls unmetered when the counter store is down (default: refuse)')
    .action((options: SetOptions) =>
      withStorage(options, async (database, config) => {
        const input = toInput(options);
        if (
          config.budgets.limits.some(
            (l) => toBudget(budgetFromConfig(l), 'config').id === (input.id ?? toBudget(input, 'sql').id),
          )
        )
          throw new CliError('a budget with this id is defined in the config file, which wins: change it there');
        const budget = await createSqlBudgetRepository(database).upsert(input);
        console.log(`budget ${budget.id}: ${describe(budget)}`);
      }),
    );

  budgets
    .command('delete <id>')
    .description('remove a budget stored in SQL')
    .option(...configOption)
    .action((id: string, options: StorageOptions) =>
      withStorage(options, async (database) => {
        if (!(await createSqlBudgetRepository(database).delete(id)))
          throw new CliError(`no budget "${id}" in the database`);
        console.log(`budget ${id} deleted`);
      }),
    );
}

function toInput(options: SetOptions): BudgetInput {
  const scopes = [options.global, options.key, options.feature ?? options.tenant].filter((v) => v !== undefined);
  if (scopes.length !== 1) throw new CliError('give exactly one scope: --tenant, --feature, --key or --global');
  if (options.key && (options.tenant || options.feature))
    throw new CliError('a key budget takes no --tenant or --feature');
  const scope: BudgetInput['scope'] = options.global
    ? { kind: 'global' }
    : options.key
      ? { kind: 'key', keyId: options.key }
      : options.feature
        ? { kind: 'feature', tenant: options.tenant ?? DEFAULT_TENANT, feature: options.feature }
        : { kind: 'tenant', tenant: options.tenant! };
  const action = options.action ?? 'hard';
  if (!(BUDGET_ACTIONS as readonly string[]).includes(action))
    throw new CliError(`--action must be one of ${BUDGET_ACTIONS.join(', ')}`);
  return {
    ...(options.id ? { id: options.id } : {}),
    scope,
    ...parseBudgetSpec(options.limit),
    action: action as Budget['action'],
    downgradeTo: options.downgradeTo ?? null,
    ...(options.thresholds ? { thresholds: list(options.thresholds).map(Number) } : {}),
    failOpen: options.failOpen === true,
  };
}

function describe(budget: Budget): string {
  const action = budget.action === 'downgrade' ? `downgrade to ${budget.downgradeTo}` : budget.action;
  return `${formatMicros(budget.limitMicros)} ${budget.window}, ${describeScope(budget.scope)}, ${action}, alerts at ${budget.thresholds.join('/')}%`;
}
