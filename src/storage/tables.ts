import type { Generated } from 'kysely';

/**
 * One row of the request ledger (`requests`), as kysely sees it: camelCase here, snake_case in
 * SQL (`requestId` ↔ `request_id`, mapped by the `CamelCasePlugin` that `openDatabase` installs).
 *
 * Portable types only: booleans are integers 0/1, timestamps are integer epoch milliseconds,
 * money is integer micro-dollars. Domain code should go through `LedgerRow`
 * (`src/accounting/ledger-row.ts`), which converts booleans and tags.
 */
export interface RequestsTable {
  id: Generated<number>;
  requestId: string;
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

/** Every table the gateway keeps in SQL. Add new tables here along with their migration. */
export interface Tables {
  requests: RequestsTable;
}
