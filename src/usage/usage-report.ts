import { sql, type Expression, type RawBuilder } from 'kysely';
import type { Database } from '../storage/database.js';

/** What a report can be grouped by, and the ledger column behind each. */
export const USAGE_DIMENSIONS = {
  tenant: 'tenant',
  feature: 'feature',
  /** The alias the client asked for. */
  model: 'alias',
  key: 'keyId',
  user: 'endUser',
  provider: 'provider',
  upstream_model: 'upstreamModel',
} as const;

export type UsageDimension = keyof typeof USAGE_DIMENSIONS;
export type UsageInterval = 'hour' | 'day' | 'month';

export interface UsageQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  groupBy: readonly UsageDimension[];
  /** Time buckets (UTC); null = one bucket for the whole range. */
  interval: UsageInterval | null;
  /** Only this tenant's rows (`null` = rows without a tenant). Unset = every tenant. */
  tenant?: string | null;
  keyId?: string;
  /** Most rows returned (totals always cover the whole range). Default 10 000. */
  limit?: number;
}

/** The sums a report gives for a group (and for the whole range). Money is integer micro-dollars. */
export interface UsageMetrics {
  requests: number;
  /** Calls the client saw fail (status ≥ 400). */
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costMicros: number;
}

export interface UsageRow extends UsageMetrics {
  /** Start of the bucket (epoch ms, UTC) when the report has an interval. */
  period: number | null;
  /** The group's value for each `groupBy` dimension (null where the ledger has none). */
  group: Partial<Record<UsageDimension, string | null>>;
}

export interface UsageReport {
  query: UsageQuery;
  rows: UsageRow[];
  /** Sums over every ledger row in the range (and tenant/key filter), computed by the database. */
  totals: UsageMetrics;
  /** More groups exist than `limit`; `totals` still covers them all. */
  truncated: boolean;
}

const DAY = 86_400_000;
const BUCKET_MS: Record<Exclude<UsageInterval, 'month'>, number> = { hour: 3_600_000, day: DAY };

/**
 * Usage from the request ledger, aggregated in SQL (SQLite and PostgreSQL alike): requests,
 * errors, tokens and cost per group and time bucket, and totals over the same range that equal
 * the sum of the ledger rows.
 *
 * @example
 * const report = await usageReport(database, {
 *   from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 1, 1), groupBy: ['tenant', 'model'], interval: 'day',
 * });
 */
export async function usageReport(database: Pick<Database, 'db' | 'dialect'>, query: UsageQuery): Promise<UsageReport> {
  const { db } = database;
  const limit = query.limit ?? 10_000;
  const filtered = () => {
    let q = db.selectFrom('requests').where('createdAt', '>=', query.from).where('createdAt', '<', query.to);
    if (query.tenant === null) q = q.where('tenant', 'is', null);
    else if (query.tenant !== undefined) q = q.where('tenant', '=', query.tenant);
    if (query.keyId !== undefined) q = q.where('keyId', '=', query.keyId);
    return q;
  };
  const metrics = {
    requests: sql<number>`count(*)`,
    errors: sql<number>`coalesce(sum(case when ${sql.ref('status')} >= 400 then 1 else 0 end), 0)`,
    inputTokens: sum('inputTokens'),
    outputTokens: sum('outputTokens'),
    cachedTokens: sum('cachedTokens'),
    costMicros: sum('costMicros'),
  };
  const bucket = query.interval === null ? null : bucketOf(query.interval, database.dialect);
  // Dimension aliases are `g0`, `g1`, …: words the CamelCasePlugin maps to themselves both ways.
  const groups: [string, Expression<unknown>][] = query.groupBy.map((d, i) => [`g${i}`, sql.ref(USAGE_DIMENSIONS[d])]);
  if (bucket !== null) groups.unshift(['period', bucket]);

  let grouped = filtered().select(Object.entries(metrics).map(([name, expr]) => expr.as(name)));
  for (const [alias, expr] of groups) grouped = grouped.select(sql`${expr}`.as(alias));
  for (const [, expr] of groups) grouped = grouped.groupBy(sql`${expr}`).orderBy(sql`${expr}`);
  const [rows, totals] = await Promise.all([
    grouped.limit(limit + 1).execute(),
    filtered()
      .select(Object.entries(metrics).map(([name, expr]) => expr.as(name)))
      .executeTakeFirstOrThrow(),
  ]);

  return {
    query,
    rows: rows.slice(0, limit).map((row) => {
      const r = row as Record<string, unknown>;
      const group: UsageRow['group'] = {};
      query.groupBy.forEach((d, i) => (group[d] = (r[`g${i}`] ?? null) as string | null));
      return { period: bucket === null ? null : Number(r.period), group, ...toMetrics(r) };
    }),
    totals: toMetrics(totals),
    truncated: rows.length > limit,
  };
}

/** Sum of an integer column as a plain number on both dialects (PostgreSQL's `sum(bigint)` is `numeric`). */
function sum(column: 'inputTokens' | 'outputTokens' | 'cachedTokens' | 'costMicros'): RawBuilder<number> {
  return sql<number>`cast(coalesce(sum(${sql.ref(column)}), 0) as bigint)`;
}

/** Start of the UTC bucket holding `created_at`, as epoch ms. */
function bucketOf(interval: UsageInterval, dialect: Database['dialect']): RawBuilder<number> {
  const at = sql.ref('createdAt');
  if (interval !== 'month') return sql<number>`(${at} - (${at} % ${sql.lit(BUCKET_MS[interval])}))`;
  if (dialect === 'sqlite')
    return sql<number>`(cast(strftime('%s', ${at} / 1000, 'unixepoch', 'start of month') as integer) * 1000)`;
  return sql<number>`cast(extract(epoch from date_trunc('month', to_timestamp(${at} / 1000.0) at time zone 'UTC')) * 1000 as bigint)`;
}

function toMetrics(row: Record<string, unknown>): UsageMetrics {
  return {
    requests: Number(row.requests ?? 0),
    errors: Number(row.errors ?? 0),
    inputTokens: Number(row.inputTokens ?? 0),
    outputTokens: Number(row.outputTokens ?? 0),
    cachedTokens: Number(row.cachedTokens ?? 0),
    costMicros: Number(row.costMicros ?? 0),
  };
}
