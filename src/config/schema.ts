import { z } from 'zod';
import { budgetsConfigSchema } from '../budgets/schema.js';
import { findCostIssues } from './check-costs.js';
import { secretSchema } from '../core/secret.js';
import { ledgerSchema } from '../ledger/schema.js';
import { pricesConfigSchema } from '../pricing/schema.js';
import { providerSchema } from '../providers/schema.js';
import { resilienceSchema } from '../resilience/schema.js';
import { aliasSchema } from '../router/schema.js';
import { redisSchema, storageSchema } from '../storage/schema.js';
import { adminSchema, authSchema } from '../tenancy/schema.js';
import { findWorkerIssues } from './check-workers.js';
import { requestsSchema, serverSchema } from './server-schema.js';

/**
 * The configuration schema. Its type is inferred (`Config`); the loader validates once at
 * start-up and freezes the result. Every non-critical setting has a default, so an empty file
 * (or no file at all) is a valid configuration.
 */

const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto`: human-readable when stdout is a terminal, JSON otherwise. */
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .strict();

export const vaultSchema = z
  .object({
    address: z.url(),
    token: secretSchema,
    namespace: z.string().optional(),
    /** KV v2 mount used when a reference does not name one. */
    mount: z.string().default('secret'),
  })
  .strict();

export const configSchema = z
  .object({
    server: serverSchema.prefault({}),
    /** Depth and size limits on request bodies, checked before the schema. */
    requests: requestsSchema.prefault({}),
    log: logSchema.prefault({}),
    storage: storageSchema.prefault({}),
    ledger: ledgerSchema.prefault({}),
    auth: authSchema.prefault({}),
    admin: adminSchema.prefault({}),
    /** Read before anything else so `{vault: ...}` references can be resolved. */
    vault: vaultSchema.optional(),
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -'), providerSchema).default({}),
    /** Model aliases: what clients send as `model` → where it is served. */
    models: z.record(z.string().min(1), aliasSchema).default({}),
    /** Retry, breaker, fallback and balancing defaults for every alias (each may override). */
    resilience: resilienceSchema.prefault({}),
    /** Prices overriding and extending the bundled table: `<provider id or type>: { <model>: {...} }`. */
    prices: pricesConfigSchema,
    /** Budgets, their enforcement store and usage alerts. */
    budgets: budgetsConfigSchema.prefault({}),
    /** Shared state for several replicas (budgets today). */
    redis: redisSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of findUnknownProviders(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of findCostIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of findWorkerIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
  });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Deployments that name a provider which is not configured. It accepts the raw, unvalidated
 * tree too: zod skips `superRefine` once any other issue exists, and the loader wants this
 * mistake reported in the same list as the schema errors, so it calls this itself.
 *
 * @example findUnknownProviders({ providers: {}, models: { a: { deployments: [{ provider: 'x' }] } } })
 *   // → [{ path: ['models', 'a', 'deployments', 0, 'provider'], message: 'unknown provider "x" (configured: none)' }]
 */
export function findUnknownProviders(input: unknown): { path: (string | number)[]; message: string }[] {
  if (!isRecord(input) || !isRecord(input.models)) return [];
  const providers = isRecord(input.providers) ? Object.keys(input.providers) : [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [alias, entry] of Object.entries(input.models)) {
    if (!isRecord(entry) || !Array.isArray(entry.deployments)) continue;
    entry.deployments.forEach((deployment: unknown, index) => {
      if (!isRecord(deployment) || typeof deployment.provider !== 'string') return;
      if (providers.includes(deployment.provider)) return;
      issues.push({
        path: ['models', alias, 'deployments', index, 'provider'],
        message: `unknown provider "${deployment.provider}" (configured: ${providers.join(', ') || 'none'})`,
      });
    });
  }
  return issues;
}

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type VaultConfig = z.infer<typeof vaultSchema>;
