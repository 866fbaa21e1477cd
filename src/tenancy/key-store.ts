import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../storage/database.js';
import { GatewayError } from '../core/errors.js';
import type { ApiKeysTable, Tables, TenantsTable } from '../storage/tables.js';
import { displayPrefix, generateKeySecret, hashKeySecret, newId } from './key-secret.js';
import {
  type ApiKeyInfo,
  type CreateKeyInput,
  type CreateTenantInput,
  type IssuedKey,
  type KeyRecord,
  type Tenant,
} from './types.js';
import { checkKeyInput, checkTenantInput, checkTime } from './validate-input.js';

/** The longest rotation grace accepted: 30 days. */
export const MAX_GRACE_MS = 30 * 24 * 3600 * 1000;
/** The rotation grace when none is given: 24 hours (a leaked key is rotated with 0, or revoked). */
export const DEFAULT_GRACE_MS = 24 * 3600 * 1000;

/**
 * Tenants and virtual keys in SQL (SQLite or PostgreSQL), used by the admin API, the CLI and the
 * authentication cache. Every key write bumps the `api_keys` change version in the same
 * transaction, which is how other replicas learn of it (`changesSince`).
 */
export interface KeyStore {
  createTenant(input: CreateTenantInput): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;
  /** Creates a key for an existing tenant; the secret is in the result and nowhere else. */
  createKey(input: CreateKeyInput): Promise<IssuedKey>;
  getKey(id: string): Promise<ApiKeyInfo | null>;
  /** Keys, newest first; revoked and expired ones only with `includeInactive`. */
  listKeys(filter?: { tenant?: string; includeInactive?: boolean }): Promise<ApiKeyInfo[]>;
  /** Revokes at once (both the current and any previous secret). Idempotent. */
  revokeKey(id: string, reason?: string | null): Promise<ApiKeyInfo>;
  /**
   * Issues a new secret for the same key (same id, settings, budgets, ledger history). The old
   * secret keeps working for `graceMs` (0 = stops at once); a previous secret still in its grace
   * from an earlier rotation stops at once.
   */
  rotateKey(id: string, options: { graceMs: number }): Promise<IssuedKey>;
  /** Sets when the key stops working (default now). */
  expireKey(id: string, at?: number): Promise<ApiKeyInfo>;
  /** The key whose current or previous secret has this hash. */
  findByHash(hash: string): Promise<KeyRecord | null>;
  /** Keys changed after `version`, oldest change first (the replicas' refresh poll). */
  changesSince(version: number): Promise<KeyRecord[]>;
  /** The current change version (0 until the first key is written). */
  currentVersion(): Promise<number>;
}

export interface KeyStoreOptions {
  /** Wall clock, epoch ms. */
  now?: () => number;
  /** Called after every committed key change (the writing process refreshes its cache at once). */
  onChange?: () => void;
}

/**
 * @example
 * const store = createKeyStore(database);
 * await store.createTenant({ id: 'acme' });
 * const { key, secret } = await store.createKey({ tenant: 'acme', allowedModels: ['gpt-4o-mini'] });
 */
export function createKeyStore(database: Pick<Database, 'db'>, options: KeyStoreOptions = {}): KeyStore {
  const { db } = database;
  const now = options.now ?? Date.now;
  const changed = (): void => options.onChange?.();

  /** Increments the change version; the row lock orders concurrent writers until commit. */
  async function nextVersion(trx: Transaction<Tables>): Promise<number> {
    const row = await trx
      .updateTable('changeVersions')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('scope', '=', 'api_keys')
      .returning('version')
      .executeTakeFirstOrThrow();
    return Number(row.version);
  }

  async function requireKey(trx: Kysely<Tables>, id: string): Promise<Selectable<ApiKeysTable>> {
    const row = await trx.selectFrom('apiKeys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new GatewayError('not_found', `no key with id ${id}`);
    return row;
  }

  /** Applies `update` to key `id` under a new version; returns the row as written. */
  async function updateKey(
    id: string,
    update: (row: Selectable<ApiKeysTable>, at: number) => Partial<ApiKeysTable> | null,
  ): Promise<Selectable<ApiKeysTable>> {
    const result = await db.transaction().execute(async (trx) => {
      const row = await requireKey(trx, id);
      const at = now();
      const patch = update(row, at);
      if (patch === null) return { row, wrote: false };
      const values = { ...patch, updatedAt: at, version: await nextVersion(trx) };
      await trx.updateTable('apiKeys').set(values).where('id', '=', id).execute();
      return { row: { ...row, ...values }, wrote: true };
    });
    if (result.wrote) changed();
    return result.row;
  }

  return {
    async createTenant(input) {
      const tenant = checkTenantInput(input);
      const at = now();
      const result = await db
        .insertInto('tenants')
        .values({
          id: tenant.id,
          name: tenant.name,
          metadata: tenant.metadata === null ? null : JSON.stringify(tenant.metadata),
          createdAt: at,
          updatedAt: at,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0)
        throw new GatewayError('conflict', `tenant ${tenant.id} already exists`);
      return { ...tenant, createdAt: at };
    },

    async getTenant(id) {
      const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toTenant(row) : null;
    },

    async listTenants() {
      return (await db.selectFrom('tenants').selectAll().orderBy('id').execute()).map(toTenant);
    },

    async createKey(input) {
      const at = now();
      const fields = checkKeyInput(input, at);
      const secret = generateKeySecret();
      const row = await db.transaction().execute(async (trx) => {
        const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', fields.tenant).executeTakeFirst();
        if (!tenant)
          throw new GatewayError(
            'not_found',
            `tenant ${fields.tenant} does not exist: create it first (tollgate tenants create ${fields.tenant})`,
          );
        const values: Selectable<ApiKeysTable> = {
          id: newId('key'),
          tenant: fields.tenant,
          name: fields.name,
          hash: hashKeySecret(secret),
          prefix: displayPrefix(secret),
          previousHash: null,
          previousPrefix: null,
          previousExpiresAt: null,
          rotatedAt: null,
          allowedModels: fields.allowedModels === null ? null : JSON.stringify(fields.allowedModels),
          rpmLimit: fields.rpmLimit,
          tpmLimit: fields.tpmLimit,
          metadata: fields.metadata === null ? null : JSON.stringify(fields.metadata),
          createdAt: at,
          updatedAt: at,
          expiresAt: fields.expiresAt,
          revokedAt: null,
          revokedReason: null,
          version: await nextVersion(trx),
        };
        await trx.insertInto('apiKeys').values(values).execute();
        return values;
      });
      changed();
      return { key: toInfo(row), secret };
    },

    async getKey(id) {
      const row = await db.selectFrom('apiKeys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toInfo(row) : null;
    },

    async listKeys(filter = {}) {
      let query = db.selectFrom('apiKeys').selectAll().orderBy('createdAt', 'desc').orderBy('id');
      if (filter.tenant !== undefined) query = query.where('tenant', '=', filter.tenant);
      if (filter.includeInactive !== true) {
        const at = now();
        query = query
          .where('revokedAt', 'is', null)
          .where((eb) => eb.or([eb('expiresAt', 'is', null), eb('expiresAt', '>', at)]));
      }
      return (await query.execute()).map(toInfo);
    },

    async revokeKey(id, reason = null) {
      const row = await updateKey(id, (current, at) =>
        current.revokedAt !== null ? null : { revokedAt: at, revokedReason: reason?.slice(0, 500) ?? null },
      );
      return toInfo(row);
    },

    async rotateKey(id, { graceMs }) {
      if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS)
        throw new GatewayError(
          'invalid_request',
          `grace must be a whole number of ms between 0 and ${MAX_GRACE_MS} (30 days)`,
        );
      const secret = generateKeySecret();
      const row = await updateKey(id, (current, at) => {
        if (current.revokedAt !== null) throw new GatewayError('conflict', `key ${id} is revoked; create a new one`);
        const keep = graceMs > 0;
        return {
          hash: hashKeySecret(secret),
          prefix: displayPrefix(secret),
          previousHash: keep ? current.hash : null,
          previousPrefix: keep ? current.prefix : null,
          previousExpiresAt: keep ? at + graceMs : null,
          rotatedAt: at,
        };
      });
      return { key: toInfo(row), secret };
    },

    async expireKey(id, at) {
      const when = at === undefined ? now() : checkTime(at, 'expires_at');
      return toInfo(await updateKey(id, () => ({ expiresAt: when })));
    },

    async findByHash(hash) {
      const row = await db
        .selectFrom('apiKeys')
        .selectAll()
        .where((eb) => eb.or([eb('hash', '=', hash), eb('previousHash', '=', hash)]))
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async changesSince(version) {
      const rows = await db
        .selectFrom('apiKeys')
        .selectAll()
        .where('version', '>', version)
        .orderBy('version')
        .execute();
      return rows.map(toRecord);
    },

    async currentVersion() {
      const row = await db
        .selectFrom('changeVersions')
        .select('version')
        .where('scope', '=', 'api_keys')
        .executeTakeFirst();
      return Number(row?.version ?? 0);
    },
  };
}

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return {
    id: row.id,
    name: row.name,
    metadata: parseJson<Record<string, unknown>>(row.metadata),
    createdAt: Number(row.createdAt),
  };
}

const numberOrNull = (value: number | null): number | null => (value === null ? null : Number(value));

function toInfo(row: Selectable<ApiKeysTable>): ApiKeyInfo {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    prefix: row.prefix,
    allowedModels: parseJson<string[]>(row.allowedModels),
    rpmLimit: numberOrNull(row.rpmLimit),
    tpmLimit: numberOrNull(row.tpmLimit),
    metadata: parseJson<Record<string, unknown>>(row.metadata),
    createdAt: Number(row.createdAt),
    expiresAt: numberOrNull(row.expiresAt),
    revokedAt: numberOrNull(row.revokedAt),
    revokedReason: row.revokedReason,
    rotatedAt: numberOrNull(row.rotatedAt),
    previousPrefix: row.previousPrefix,
    previousExpiresAt: numberOrNull(row.previousExpiresAt),
  };
}

function toRecord(row: Selectable<ApiKeysTable>): KeyRecord {
  return { ...toInfo(row), hash: row.hash, previousHash: row.previousHash, version: Number(row.version) };
}
