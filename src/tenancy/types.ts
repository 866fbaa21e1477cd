/** Tenants and virtual keys as the rest of the gateway sees them (never with a hash or a secret). */

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A virtual key's settings and state, as listed by the admin API and the CLI. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  /** The first characters of the current secret (`tg-4fQ2aB`): enough to recognise it, useless to use it. */
  readonly prefix: string;
  /** Aliases the key may call; null = every configured alias. */
  readonly allowedModels: readonly string[] | null;
  /** Stored for the rate limiter (enforced by the security work; null = no limit). */
  readonly rpmLimit: number | null;
  readonly tpmLimit: number | null;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly createdAt: number;
  /** Epoch ms after which the key stops working; null = never. */
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly revokedReason: string | null;
  /** The last rotation, and the secret it replaced while that stays valid. */
  readonly rotatedAt: number | null;
  readonly previousPrefix: string | null;
  readonly previousExpiresAt: number | null;
}

export type KeyStatus = 'active' | 'expired' | 'revoked';

/** A key as the authentication cache holds it: the info plus both hashes and the change version. */
export interface KeyRecord extends ApiKeyInfo {
  readonly hash: string;
  readonly previousHash: string | null;
  readonly version: number;
}

export interface CreateTenantInput {
  /** Slug: lower-case letters, digits, `-` and `_`, 1–64 characters, starting with a letter or digit. */
  id: string;
  name?: string;
  metadata?: Record<string, unknown> | null;
}

export interface CreateKeyInput {
  tenant: string;
  /** Defaults to `default`. */
  name?: string;
  allowedModels?: readonly string[] | null;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  metadata?: Record<string, unknown> | null;
  /** Epoch ms; null = never. */
  expiresAt?: number | null;
}

/** A key just created or rotated: the only time its secret exists outside the client. */
export interface IssuedKey {
  readonly key: ApiKeyInfo;
  readonly secret: string;
}

/** The status of a key at `now` (epoch ms). */
export function keyStatus(key: Pick<ApiKeyInfo, 'revokedAt' | 'expiresAt'>, now: number): KeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return 'active';
}
