import type { Migration, MigrationProvider } from 'kysely';
import { requests001 } from './migrations/001-requests.js';
import { tenantsKeys002 } from './migrations/002-tenants-keys.js';
import { budgets003 } from './migrations/003-budgets.js';
import { callId004 } from './migrations/004-call-id.js';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * Every migration, in order, for one dialect. Names sort lexically, so keep the numeric prefix.
 * To add one: write `migrations/00N-name.ts` (portable types only; branch on `dialect` just for
 * what cannot be portable, like auto-increment keys) and list it here. Never edit a shipped one.
 *
 * @example
 * const migrator = new Migrator({ db, provider: migrationProvider('sqlite') });
 */
export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '001_requests': requests001(dialect),
    '002_tenants_keys': tenantsKeys002(dialect),
    '003_budgets': budgets003(dialect),
    '004_call_id': callId004(dialect),
  };
  return { getMigrations: async () => migrations };
}
