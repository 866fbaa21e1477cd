import type { Command } from 'commander';
import { createSqlBudgetRepository } from '../budgets/index.js';
import { attachBudgets, budgetJson, parseBudgets } from '../tenancy/budgets.js';
import { createKeyStore, DEFAULT_GRACE_MS } from '../tenancy/key-store.js';
import { keyStatus, type ApiKeyInfo } from '../tenancy/types.js';
import { CliError, collect, list, parseDuration, parseWhen, withStorage, type StorageOptions } from './open-storage.js';
import { formatTable } from './table.js';

interface CreateOptions extends StorageOptions {
  tenant: string;
  name?: string;
  models?: string;
  budget?: string[];
  rpm?: string;
  tpm?: string;
  expires?: string;
  metadata?: string;
  json?: boolean;
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

const positive = (text: string | undefined, what: string): number | null => {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`${what} must be a positive integer, got "${text}"`);
  return n;
};

/** Prints a freshly issued secret: alone on stdout (so `KEY=$(tollgate keys create …)` works), the rest on stderr. */
function printIssued(key: ApiKeyInfo, secret: string, extra: string[]): void {
  console.error(`key ${key.id} ("${key.name}") for tenant ${key.tenant}`);
  console.error(`  models:  ${key.allowedModels?.join(', ') ?? 'all'}`);
  if (key.expiresAt !== null) console.error(`  expires: ${iso(key.expiresAt)}`);
  for (const line of extra) console.error(`  ${line}`);
  console.log(secret);
  console.error('This is the only time the key is shown: store it now (a secret manager, not a chat message).');
}

/** `tollgate keys create|list|revoke|rotate|expire`, against the configured database. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage virtual keys (against the configured database)');
  const configOption = ['-c, --config <path>', 'config file'] as const;

  keys
    .command('create')
    .description('create a key for a tenant; prints the secret once')
    .requiredOption('--tenant <id>', 'tenant the key belongs to (tollgate tenants create <id> first)')
    .option(...configOption)
    .option('--name <name>', 'a name to recognise the key by', 'default')
    .option('--models <aliases>', 'comma-separated aliases the key may call (default: all)')
    .option('--budget <usd/window>', 'hard budget on this key, e.g. 50/month or 5/day (repeatable)', collect)
    .option('--rpm <n>', 'requests per minute (stored, not enforced yet)')
    .option('--tpm <n>', 'tokens per minute (stored, not enforced yet)')
    .option('--expires <when>', 'a duration from now (30d) or an ISO date (2026-12-31)')
    .option('--metadata <json>', 'a JSON object stored with the key')
    .option('--json', 'print JSON (the secret included, as "key")')
    .action(async (options: CreateOptions) => {
      await withStorage(options, async (database, config) => {
        const models = options.models === undefined ? null : list(options.models);
        const unknown = models?.filter((m) => !(m in config.models)) ?? [];
        if (unknown.length > 0)
          throw new CliError(
            `unknown model alias(es): ${unknown.join(', ')} (configured: ${Object.keys(config.models).join(', ') || 'none'})`,
          );
        const budgets = parseBudgets(options.budget ?? []);
        let metadata: Record<string, unknown> | null = null;
        if (options.metadata !== undefined) metadata = JSON.parse(options.metadata) as Record<string, unknown>;
        const { key, secret } = await createKeyStore(database).createKey({
          tenant: options.tenant,
          ...(options.name ? { name: options.name } : {}),
          allowedModels: models,
          rpmLimit: positive(options.rpm, '--rpm'),
          tpmLimit: positive(options.tpm, '--tpm'),
          metadata,
          expiresAt: options.expires === undefined ? null : parseWhen(options.expires, Date.now(), '--expires'),
        });
        const created = await attachBudgets(
          createSqlBudgetRepository(database),
          { kind: 'key', keyId: key.id },
          budgets,
        );
        if (options.json)
          return console.log(JSON.stringify({ ...key, key: secret, budgets: created.map(budgetJson) }, null, 2));
        printIssued(
          key,
          secret,
          created.map((b) => `budget:  ${budgetJson(b).limit_usd} ${b.window} (${b.action}, ${b.id})`),
        );
      });
    });

  keys
    .command('list')
    .description('list active keys (with --all, revoked and expired ones too)')
    .option(...configOption)
    .option('--tenant <id>', 'only this tenant')
    .option('--all', 'include revoked and expired keys')
    .option('--json', 'print JSON')
    .action(async (options: StorageOptions & { tenant?: string; all?: boolean; json?: boolean }) => {
      await withStorage(options, async (database) => {
        const all = await createKeyStore(database).listKeys({
          ...(options.tenant ? { tenant: options.tenant } : {}),
          includeInactive: options.all === true,
        });
        if (options.json) return console.log(JSON.stringify(all, null, 2));
        if (all.length === 0) return console.log('no keys: tollgate keys create --tenant <id>');
        const now = Date.now();
        const rows = all.map((k) => [
          k.id,
          k.tenant,
          k.name,
          `${k.prefix}…`,
          keyStatus(k, now),
          k.allowedModels?.join(',') ?? 'all',
          iso(k.createdAt).slice(0, 16),
          iso(k.expiresAt).slice(0, 16),
        ]);
        console.log(
          formatTable([['ID', 'TENANT', 'NAME', 'PREFIX', 'STATUS', 'MODELS', 'CREATED', 'EXPIRES'], ...rows]),
        );
      });
    });

  keys
    .command('revoke <id>')
    .description('revoke a key at once (every replica refuses it within a second)')
    .option(...configOption)
    .option('--reason <text>', 'why (kept for the audit trail)')
    .action(async (id: string, options: StorageOptions & { reason?: string }) => {
      await withStorage(options, async (database) => {
        const key = await createKeyStore(database).revokeKey(id, options.reason ?? null);
        console.log(`key ${key.id} (${key.prefix}…, tenant ${key.tenant}) revoked at ${iso(key.revokedAt)}`);
      });
    });

  keys
    .command('rotate <id>')
    .description('issue a new secret for the key; the old one keeps working for the grace period')
    .option(...configOption)
    .option('--grace <duration>', 'how long the old secret keeps working: 24h, 30m, 0 (default 24h)')
    .option('--json', 'print JSON (the new secret included, as "key")')
    .action(async (id: string, options: StorageOptions & { grace?: string; json?: boolean }) => {
      await withStorage(options, async (database) => {
        const graceMs = options.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(options.grace, '--grace');
        const { key, secret } = await createKeyStore(database).rotateKey(id, { graceMs });
        if (options.json) return console.log(JSON.stringify({ ...key, key: secret }, null, 2));
        const old =
          key.previousExpiresAt === null
            ? 'the old secret stopped working now'
            : `the old secret (${key.previousPrefix}…) works until ${iso(key.previousExpiresAt)}`;
        printIssued(key, secret, [old]);
      });
    });

  keys
    .command('expire <id>')
    .description('set when a key stops working (default: now)')
    .option(...configOption)
    .option('--at <when>', 'a duration from now (7d) or an ISO date')
    .action(async (id: string, options: StorageOptions & { at?: string }) => {
      await withStorage(options, async (database) => {
        const at = options.at === undefined ? undefined : parseWhen(options.at, Date.now(), '--at');
        const key = await createKeyStore(database).expireKey(id, at);
        console.log(`key ${key.id} (${key.prefix}…) expires at ${iso(key.expiresAt)}`);
      });
    });
}
