import { GatewayError } from '../core/errors.js';
import { type CreateKeyInput, type CreateTenantInput } from './types.js';

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_METADATA_BYTES = 4096;

const invalid = (message: string): never => {
  throw new GatewayError('invalid_request', message);
};

/** Epoch ms, a safe integer after 2000-01-01 (catches seconds passed for milliseconds). */
export function checkTime(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 946_684_800_000)
    invalid(`${name} must be a time in epoch milliseconds (or an ISO date where the surface accepts one)`);
  return value as number;
}

function checkMetadata(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) invalid('metadata must be a JSON object');
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES)
    invalid(`metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`);
  return value as Record<string, unknown>;
}

function checkLimit(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    invalid(`${name} must be a positive integer`);
  return value as number;
}

function checkName(value: unknown, fallback: string, what: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 200)
    invalid(`${what} must be 1–200 characters`);
  return (value as string).trim();
}

export function checkTenantInput(input: CreateTenantInput): {
  id: string;
  name: string;
  metadata: Record<string, unknown> | null;
} {
  if (typeof input.id !== 'string' || !TENANT_ID.test(input.id))
    invalid('tenant id must be 1–64 characters: lower-case letters, digits, - and _, starting with a letter or digit');
  return {
    id: input.id,
    name: checkName(input.name, input.id, 'tenant name'),
    metadata: checkMetadata(input.metadata),
  };
}

export function checkKeyInput(
  input: CreateKeyInput,
  now: number,
): {
  tenant: string;
  name: string;
  allowedModels: string[] | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  metadata: Record<string, unknown> | null;
  expiresAt: number | null;
} {
  if (typeof input.tenant !== 'string' || input.tenant.length === 0) invalid('tenant is required');
  let allowedModels: string[] | null = null;
  if (input.allowedModels !== undefined && input.allowedModels !== null) {
    const models = input.allowedModels as unknown;
    if (!Array.isArray(models) || models.some((m) => typeof m !== 'string' || m.trim() === ''))
      invalid('models must be a list of model aliases');
    allowedModels = [...new Set((models as string[]).map((m) => m.trim()))];
    if (allowedModels.length === 0) invalid('models must name at least one alias (leave it out to allow all)');
  }
  let expiresAt: number | null = null;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    expiresAt = checkTime(input.expiresAt, 'expires_at');
    if (expiresAt <= now) invalid('expires_at must be in the future');
  }
  return {
    tenant: input.tenant,
    name: checkName(input.name, 'default', 'key name'),
    allowedModels,
    rpmLimit: checkLimit(input.rpmLimit, 'rpm_limit'),
    tpmLimit: checkLimit(input.tpmLimit, 'tpm_limit'),
    metadata: checkMetadata(input.metadata),
    expiresAt,
  };
}
