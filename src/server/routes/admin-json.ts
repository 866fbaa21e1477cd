import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import { formatParam } from '../../core/validate-request.js';
import { keyStatus, type ApiKeyInfo, type Tenant } from '../../tenancy/types.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A key as the admin API shows it: never the hash, never the secret (except once, on create and rotate). */
export function keyJson(key: ApiKeyInfo, now: number) {
  return {
    object: 'api_key' as const,
    id: key.id,
    tenant: key.tenant,
    name: key.name,
    prefix: key.prefix,
    status: keyStatus(key, now),
    models: key.allowedModels,
    rpm_limit: key.rpmLimit,
    tpm_limit: key.tpmLimit,
    metadata: key.metadata,
    created_at: iso(key.createdAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    revoked_reason: key.revokedReason,
    rotated_at: iso(key.rotatedAt),
    previous_prefix: key.previousPrefix,
    previous_expires_at: iso(key.previousExpiresAt),
  };
}

export function tenantJson(tenant: Tenant) {
  return {
    object: 'tenant' as const,
    id: tenant.id,
    name: tenant.name,
    metadata: tenant.metadata,
    created_at: iso(tenant.createdAt),
  };
}

/**
 * A budget the repository refused (`RangeError` naming the bad field) → 400. The key store throws
 * `GatewayError`s itself (bad input 400, unknown id 404, duplicate or wrong state 409).
 */
export function toAdminError(err: unknown): unknown {
  if (err instanceof RangeError) return new GatewayError('invalid_request', err.message);
  return err;
}

/** Validates a JSON body against `schema`, or throws 400 naming the first bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = formatParam(issue.path) || null;
  throw new GatewayError('invalid_request', `Invalid request: '${param ?? 'body'}' ${issue.message}.`, { param });
}

/** A time in a body or query: ISO 8601 (UTC unless an offset is given) or epoch ms (up to the latest a Date holds). */
export const timeSchema = z
  .union([z.number().int().nonnegative().max(8_640_000_000_000_000), z.string().min(1)])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const text = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
    const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isFinite(ms)) return ms;
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time (2026-02-01T00:00:00Z) or epoch ms' });
    return z.NEVER;
  });
