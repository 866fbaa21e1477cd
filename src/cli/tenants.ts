import type { Command } from 'commander';
import { createSqlBudgetRepository } from '../budgets/index.js';
import { attachBudgets, budgetJson, parseBudgets } from '../tenancy/budgets.js';
import { createKeyStore } from '../tenancy/key-store.js';
import { collect, withStorage, type StorageOptions } from './open-storage.js';
import { formatTable } from './table.js';

interface CreateOptions extends StorageOptions {
  name?: string;
  budget?: string[];
  json?: boolean;
}

/** `tollgate tenants create|list`, against the configured database. */
export function registerTenantCommands(program: Command): void {
  const tenants = program.command('tenants').description('create and list tenants (against the configured database)');

  tenants
    .command('create <id>')
    .description('create a tenant (id: lower-case letters, digits, - and _)')
    .option('-c, --config <path>', 'config file')
    .option('--name <name>', 'display name (default: the id)')
    .option('--budget <usd/window>', 'hard budget, e.g. 500/month or 20/day (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (id: string, options: CreateOptions) => {
      await withStorage(options, async (database) => {
        const budgets = parseBudgets(options.budget ?? []);
        const tenant = await createKeyStore(database).createTenant({
          id,
          ...(options.name ? { name: options.name } : {}),
        });
        const created = await attachBudgets(
          createSqlBudgetRepository(database),
          { kind: 'tenant', tenant: tenant.id },
          budgets,
        );
        if (options.json) {
          console.log(JSON.stringify({ ...tenant, budgets: created.map(budgetJson) }, null, 2));
          return;
        }
        console.log(`tenant ${tenant.id} created${tenant.name !== tenant.id ? ` (${tenant.name})` : ''}`);
        for (const b of created) console.log(`  budget: ${b.id} ${budgetJson(b).limit_usd} ${b.window} (${b.action})`);
      });
    });

  tenants
    .command('list')
    .description('list tenants')
    .option('-c, --config <path>', 'config file')
    .option('--json', 'print JSON')
    .action(async (options: StorageOptions & { json?: boolean }) => {
      await withStorage(options, async (database) => {
        const all = await createKeyStore(database).listTenants();
        if (options.json) return console.log(JSON.stringify(all, null, 2));
        if (all.length === 0) return console.log('no tenants yet: tollgate tenants create <id>');
        const rows = all.map((t) => [t.id, t.name, new Date(t.createdAt).toISOString()]);
        console.log(formatTable([['ID', 'NAME', 'CREATED'], ...rows]));
      });
    });
}
