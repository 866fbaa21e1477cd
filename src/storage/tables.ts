import type { Generated } from 'kysely';

/**
 * One row of the request ledger (`requests`), as kysely sees it: camelCase here, snake_case in
 * SQL (`requestId` ↔ `request_id`, mapped by the `CamelCasePlugin` that `openDatabase` installs).
 *
 * Portable types only: booleans are integers 0/1, timestamps are integer epoch milliseconds,
 * money is integer micro-dollars. Domain code should go through `LedgerRow`
 * (`src/ledger/ledger-row.ts`), which converts booleans and tags.
 */
export interface RequestsTable {
  id: Generated<number>;
  /** The client's label (`x-request-id`) or a generated one; not unique. */
  requestId: string;
  /** The gateway's own id for the call (migration 004); unique, null on rows older than it. */
  callId: string | null;
  /** Epoch ms when the request arrived. */
  createdAt: number;
  alias: string;
  provider: string | null;
  deployment: string | null;
  upstreamModel: string | null;
  /** HTTP status sent to the client. */
  status: number;
  outcome: 'ok' | 'error' | 'truncated' | 'aborted' | 'degraded';
  errorCode: string | null;
  /** 0/1 */
  stream: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: Generated<number>;
  latencyMs: number;
  ttftMs: number | null;
  attempts: Generated<number>;
  /** 0/1 */
  fallbackUsed: Generated<number>;
  tenant: string | null;
  feature: string | null;
  keyId: string | null;
  endUser: string | null;
  /** JSON array of strings, or null when there are none. */
  tags: string | null;
  /** Integer micro-dollars (1 USD = 1_000_000). */
  costMicros: number | null;
  priceVersion: string | null;
  /** 0/1: token counts were estimated locally. */
  estimated: Generated<number>;
}

/** A budget created through the repository (migration 003); config budgets are not stored. */
export interface BudgetsTable {
  id: string;
  scopeKind: 'global' | 'tenant' | 'feature' | 'key';
  tenant: string | null;
  feature: string | null;
  keyId: string | null;
  window: 'daily' | 'monthly' | 'total';
  /** Integer micro-dollars. */
  limitMicros: number;
  action: 'hard' | 'soft' | 'downgrade';
  downgradeTo: string | null;
  /** JSON array of percentages. */
  thresholds: string;
  /** 0/1 */
  failOpen: Generated<number>;
  createdAt: number;
  updatedAt: number;
}

/** One budget alert that fired: the primary key (budget, window, threshold) dedupes across replicas. */
export interface BudgetAlertsTable {
  budgetId: string;
  windowKey: string;
  threshold: number;
  firedAt: number;
  spentMicros: number;
  limitMicros: number;
}

/** A tenant: who is billed (migration 002). `metadata` is a JSON object or null. */
export interface TenantsTable {
  id: string;
  name: string;
  metadata: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * A virtual key (migration 002). Only hashes of secrets are stored. Times are epoch ms;
 * `allowedModels` and `metadata` are JSON (null = all models / none).
 */
export interface ApiKeysTable {
  id: string;
  tenant: string;
  name: string;
  /** Lower-case hex SHA-256 of the current secret. */
  hash: string;
  /** The first characters of the secret, for display (`tg-4fQ2aB`). */
  prefix: string;
  /** The secret replaced by the last rotation, valid until `previousExpiresAt`. */
  previousHash: string | null;
  previousPrefix: string | null;
  previousExpiresAt: number | null;
  rotatedAt: number | null;
  allowedModels: string | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  metadata: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  revokedReason: string | null;
  /** `change_versions` counter value of the row's last change (replicas poll for newer ones). */
  version: number;
}

/** Monotonic change counters, one row per scope (`api_keys`). */
export interface ChangeVersionsTable {
  scope: string;
  version: number;
}

/** Every table the gateway keeps in SQL. Add new tables here along with their migration. */
export interface Tables {
  requests: RequestsTable;
  tenants: TenantsTable;
  apiKeys: ApiKeysTable;
  changeVersions: ChangeVersionsTable;
  budgets: BudgetsTable;
  budgetAlerts: BudgetAlertsTable;
}
