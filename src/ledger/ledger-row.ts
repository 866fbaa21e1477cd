import type { Insertable, Selectable } from 'kysely';
import type { RequestsTable } from '../storage/tables.js';

/**
 * What the gateway records about one finished request (one row of `requests`). Built once at
 * settle time and handed to `Ledger.record`; conversion to SQL values happens later, off the
 * request path. Optional fields default to null / 0 / false / [] / 1 (attempts).
 *
 * @example
 * ledger.record({
 *   requestId: 'req_1', createdAt: Date.now(), alias: 'fast', provider: 'openai',
 *   deployment: 'openai-eu', upstreamModel: 'gpt-4o-mini', status: 200, outcome: 'ok',
 *   stream: false, inputTokens: 12, outputTokens: 40, latencyMs: 812.5,
 * });
 */
export interface LedgerRow {
  /** The client's label (`x-request-id`) or a generated one; not unique. */
  requestId: string;
  /** The gateway's own id for the call (`CallContext.callId`), unique in the ledger; the spool's replay key. */
  callId?: string | null;
  /** Epoch ms when the request arrived. */
  createdAt: number;
  alias: string;
  provider?: string | null;
  deployment?: string | null;
  upstreamModel?: string | null;
  /** HTTP status sent to the client. */
  status: number;
  outcome: 'ok' | 'error' | 'truncated' | 'aborted' | 'degraded';
  errorCode?: string | null;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  cachedTokens?: number;
  latencyMs: number;
  /** Time to first byte/chunk, when there was one. */
  ttftMs?: number | null;
  attempts?: number;
  fallbackUsed?: boolean;
  tenant?: string | null;
  feature?: string | null;
  keyId?: string | null;
  endUser?: string | null;
  tags?: readonly string[];
  /** Integer micro-dollars (1 USD = 1_000_000). */
  costMicros?: number | null;
  priceVersion?: string | null;
  /** Token counts were estimated locally rather than reported upstream. */
  estimated?: boolean;
}

/** A ledger row as read back: every field present, plus the row id. */
export type StoredLedgerRow = Required<Omit<LedgerRow, 'tags'>> & { id: number; tags: string[] };

/**
 * The columns an inserted row binds, in the order `pushRequestsValues` gives their values, with
 * each one's SQL type (PostgreSQL's spelling; migration 001 and 004).
 */
export const LEDGER_SQL_COLUMNS = [
  ['requestId', 'request_id', 'text'],
  ['callId', 'call_id', 'text'],
  ['createdAt', 'created_at', 'bigint'],
  ['alias', 'alias', 'text'],
  ['provider', 'provider', 'text'],
  ['deployment', 'deployment', 'text'],
  ['upstreamModel', 'upstream_model', 'text'],
  ['status', 'status', 'integer'],
  ['outcome', 'outcome', 'text'],
  ['errorCode', 'error_code', 'text'],
  ['stream', 'stream', 'integer'],
  ['inputTokens', 'input_tokens', 'integer'],
  ['outputTokens', 'output_tokens', 'integer'],
  ['cachedTokens', 'cached_tokens', 'integer'],
  ['latencyMs', 'latency_ms', 'double precision'],
  ['ttftMs', 'ttft_ms', 'double precision'],
  ['attempts', 'attempts', 'integer'],
  ['fallbackUsed', 'fallback_used', 'integer'],
  ['tenant', 'tenant', 'text'],
  ['feature', 'feature', 'text'],
  ['keyId', 'key_id', 'text'],
  ['endUser', 'end_user', 'text'],
  ['tags', 'tags', 'text'],
  ['costMicros', 'cost_micros', 'bigint'],
  ['priceVersion', 'price_version', 'text'],
  ['estimated', 'estimated', 'integer'],
] as const satisfies readonly (readonly [keyof Insertable<RequestsTable>, string, string])[];

/** Number of SQL columns one inserted row binds (every `LedgerRow` field). */
export const LEDGER_COLUMNS = LEDGER_SQL_COLUMNS.length;

/** Appends `insert`'s values to `out` in `LEDGER_SQL_COLUMNS` order (the bound parameters of a multi-row INSERT). */
export function pushRequestsValues(insert: Insertable<RequestsTable>, out: unknown[]): void {
  for (const [key] of LEDGER_SQL_COLUMNS) out.push(insert[key]);
}

/**
 * `LedgerRow` → SQL values: booleans as 0/1, tags as a JSON array (null when empty), integer
 * columns rounded (an estimated 12.5 tokens would be refused by PostgreSQL, kept as 12.5 by SQLite).
 */
export function toRequestsInsert(row: LedgerRow): Insertable<RequestsTable> {
  return {
    requestId: row.requestId,
    callId: row.callId ?? null,
    createdAt: Math.round(row.createdAt),
    alias: row.alias,
    provider: row.provider ?? null,
    deployment: row.deployment ?? null,
    upstreamModel: row.upstreamModel ?? null,
    status: Math.round(row.status),
    outcome: row.outcome,
    errorCode: row.errorCode ?? null,
    stream: row.stream ? 1 : 0,
    inputTokens: Math.round(row.inputTokens),
    outputTokens: Math.round(row.outputTokens),
    cachedTokens: Math.round(row.cachedTokens ?? 0),
    latencyMs: row.latencyMs,
    ttftMs: row.ttftMs ?? null,
    attempts: Math.round(row.attempts ?? 1),
    fallbackUsed: row.fallbackUsed === true ? 1 : 0,
    tenant: row.tenant ?? null,
    feature: row.feature ?? null,
    keyId: row.keyId ?? null,
    endUser: row.endUser ?? null,
    tags: row.tags !== undefined && row.tags.length > 0 ? JSON.stringify(row.tags) : null,
    costMicros: roundOrNull(row.costMicros),
    priceVersion: row.priceVersion ?? null,
    estimated: row.estimated === true ? 1 : 0,
  };
}

/** SQL row → `StoredLedgerRow` (the inverse of `toRequestsInsert`). */
export function fromRequestsRow(row: Selectable<RequestsTable>): StoredLedgerRow {
  return {
    ...row,
    stream: row.stream === 1,
    fallbackUsed: row.fallbackUsed === 1,
    estimated: row.estimated === 1,
    tags: row.tags === null ? [] : (JSON.parse(row.tags) as string[]),
  };
}

function roundOrNull(value: number | null | undefined): number | null {
  return value === undefined || value === null ? null : Math.round(value);
}
