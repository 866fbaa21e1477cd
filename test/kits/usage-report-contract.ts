// The usage report contract: both SQL backends must give the same answers, and totals equal to a
// direct SQL sum over the ledger. Registered by usage-report.test.ts (SQLite) and
// usage-report.int.test.ts (PostgreSQL); test-only.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/storage/database.js';
import { createLedger } from '../../src/ledger/ledger.js';
import type { LedgerRow } from '../../src/ledger/ledger-row.js';
import { silentLog } from './ledger-test-kit.js';
import { parseUsageParams, usageReportCsv, usageReportJson } from '../../src/usage/usage-report-format.js';
import { usageReport, type UsageMetrics } from '../../src/usage/usage-report.js';

export type WithDatabase = (t: TestContext, fn: (database: Database) => Promise<void>) => Promise<void>;

const JAN_30 = Date.UTC(2026, 0, 30);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A deterministic pseudo-random ledger: 3 tenants (and anonymous rows), features, models, keys, errors, null costs, 5 days. */
function seedRows(count: number): LedgerRow[] {
  // mulberry32: small, seeded, good enough to spread rows over groups and days.
  let state = 7;
  const next = (n: number): number => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
  const tenants = ['acme', 'globex', 'initech', null];
  return Array.from({ length: count }, (_, i) => {
    const tenant = tenants[next(4)] ?? null;
    const status = next(10) === 0 ? 502 : 200;
    return {
      requestId: `req_${i}`,
      createdAt: JAN_30 + next(5 * DAY),
      alias: ['fast', 'smart'][next(2)]!,
      provider: 'openai',
      upstreamModel: 'gpt-4o-mini',
      status,
      outcome: status === 200 ? 'ok' : 'error',
      stream: false,
      inputTokens: next(5_000),
      outputTokens: next(2_000),
      cachedTokens: next(3) === 0 ? next(500) : 0,
      latencyMs: 10,
      tenant,
      feature: next(3) === 0 ? null : ['search', 'chat'][next(2)]!,
      keyId: tenant === null ? null : `key_${tenant}_${next(2)}`,
      costMicros: next(5) === 0 ? null : next(900_000_000),
    };
  });
}

async function seed(database: Database, rows: LedgerRow[]): Promise<void> {
  const ledger = createLedger(database, {
    batchSize: 500,
    flushIntervalMs: 60_000,
    maxBufferedRows: 100_000,
    log: silentLog,
  });
  for (const row of rows) ledger.record(row);
  await ledger.close();
}

/** The truth: one SQL statement over the ledger, written by hand. */
async function directSum(database: Database, from: number, to: number, tenant?: string): Promise<UsageMetrics> {
  const where = tenant === undefined ? sql`` : sql` and tenant = ${tenant}`;
  const { rows } = await sql<Record<string, string | number>>`
    select count(*) as requests,
           sum(case when status >= 400 then 1 else 0 end) as errors,
           sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens,
           sum(cached_tokens) as cached_tokens, sum(cost_micros) as cost_micros
    from requests where created_at >= ${from} and created_at < ${to}${where}`.execute(database.db);
  const r = rows[0]!;
  const n = (v: unknown): number => Number(v ?? 0);
  return {
    requests: n(r.requests),
    errors: n(r.errors),
    inputTokens: n(r.inputTokens ?? r.input_tokens),
    outputTokens: n(r.outputTokens ?? r.output_tokens),
    cachedTokens: n(r.cachedTokens ?? r.cached_tokens),
    costMicros: n(r.costMicros ?? r.cost_micros),
  };
}

const add = (rows: UsageMetrics[]): UsageMetrics =>
  rows.reduce(
    (a, r) => ({
      requests: a.requests + r.requests,
      errors: a.errors + r.errors,
      inputTokens: a.inputTokens + r.inputTokens,
      outputTokens: a.outputTokens + r.outputTokens,
      cachedTokens: a.cachedTokens + r.cachedTokens,
      costMicros: a.costMicros + r.costMicros,
    }),
    { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, costMicros: 0 },
  );

/** Sums the metric columns of a CSV report. */
function csvSums(csv: string): Record<string, number> {
  const [header, ...lines] = csv.trimEnd().split('\r\n');
  const columns = header!.split(',');
  const sums: Record<string, number> = {};
  for (const line of lines)
    line.split(',').forEach((cell, i) => {
      const column = columns[i]!;
      if (/^(requests|errors|input_tokens|output_tokens|cached_tokens|cost_micros)$/.test(column))
        sums[column] = (sums[column] ?? 0) + Number(cell);
    });
  return sums;
}

export function usageReportContract(backend: string, withDatabase: WithDatabase): void {
  void describe(`usage report: ${backend}`, () => {
    void it('totals — and the sum of the groups, in JSON and CSV — equal a direct SQL sum over the ledger', (t) =>
      withDatabase(t, async (database) => {
        const rows = seedRows(600);
        await seed(database, rows);
        const from = JAN_30 + DAY + 5 * HOUR;
        const to = JAN_30 + 4 * DAY - 7 * HOUR;
        const query = parseUsageParams(
          { group_by: 'tenant,feature,model,key', interval: 'day', from: String(from), to: String(to) },
          to,
        );
        const report = await usageReport(database, query);
        const truth = await directSum(database, from, to);
        assert.ok(truth.requests > 300 && truth.costMicros > 0 && truth.errors > 0, 'the range holds a real sample');
        assert.deepEqual(report.totals, truth);
        assert.deepEqual(add(report.rows), truth);
        assert.equal(report.truncated, false);

        const json = usageReportJson(report);
        assert.deepEqual(
          {
            requests: json.totals.requests,
            errors: json.totals.errors,
            inputTokens: json.totals.input_tokens,
            outputTokens: json.totals.output_tokens,
            cachedTokens: json.totals.cached_tokens,
            costMicros: json.totals.cost_micros,
          },
          truth,
        );
        assert.deepEqual(csvSums(usageReportCsv(report)), {
          requests: truth.requests,
          errors: truth.errors,
          input_tokens: truth.inputTokens,
          output_tokens: truth.outputTokens,
          cached_tokens: truth.cachedTokens,
          cost_micros: truth.costMicros,
        });

        // Each group is what its rows add up to, computed here from the rows themselves.
        const mine = rows.filter((r) => r.createdAt >= from && r.createdAt < to);
        const acmeSearchFast = mine.filter(
          (r) =>
            r.tenant === 'acme' &&
            r.feature === 'search' &&
            r.alias === 'fast' &&
            r.createdAt - (r.createdAt % DAY) === JAN_30 + 2 * DAY,
        );
        const group = report.rows.filter(
          (r) =>
            r.period === JAN_30 + 2 * DAY &&
            r.group.tenant === 'acme' &&
            r.group.feature === 'search' &&
            r.group.model === 'fast',
        );
        assert.equal(add(group).requests, acmeSearchFast.length);
        assert.equal(
          add(group).costMicros,
          acmeSearchFast.reduce((s, r) => s + (r.costMicros ?? 0), 0),
        );
        assert.ok(
          report.rows.some((r) => r.group.tenant === null && r.group.key === null),
          'anonymous rows are a group',
        );
      }));

    void it('one tenant: only its rows, totals equal to SQL filtered the same way', (t) =>
      withDatabase(t, async (database) => {
        await seed(database, seedRows(300));
        const from = JAN_30;
        const to = JAN_30 + 5 * DAY;
        const report = await usageReport(database, {
          from,
          to,
          groupBy: ['tenant', 'key'],
          interval: null,
          tenant: 'globex',
        });
        assert.deepEqual(report.totals, await directSum(database, from, to, 'globex'));
        assert.deepEqual(new Set(report.rows.map((r) => r.group.tenant)), new Set(['globex']));
        assert.deepEqual(add(report.rows), report.totals);
      }));

    void it('from is inclusive, to exclusive; buckets are UTC hours, days and months', (t) =>
      withDatabase(t, async (database) => {
        const at = (ms: number, i: number): LedgerRow => ({
          requestId: `edge_${i}`,
          createdAt: ms,
          alias: 'fast',
          status: 200,
          outcome: 'ok',
          stream: false,
          inputTokens: 1,
          outputTokens: 1,
          latencyMs: 1,
          costMicros: 10 ** i,
        });
        const feb1 = Date.UTC(2026, 1, 1);
        await seed(database, [at(feb1 - 1, 0), at(feb1, 1), at(feb1 + HOUR + 5, 2), at(Date.UTC(2026, 2, 1), 3)]);
        const all = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 3, 1), groupBy: [] };
        const months = await usageReport(database, { ...all, interval: 'month' });
        assert.deepEqual(
          months.rows.map((r) => [new Date(r.period!).toISOString(), r.costMicros]),
          [
            ['2026-01-01T00:00:00.000Z', 1],
            ['2026-02-01T00:00:00.000Z', 110],
            ['2026-03-01T00:00:00.000Z', 1000],
          ],
        );
        const hours = await usageReport(database, { ...all, interval: 'hour' });
        assert.deepEqual(
          hours.rows.map((r) => r.period),
          [feb1 - HOUR, feb1, feb1 + HOUR, Date.UTC(2026, 2, 1)],
        );
        const edge = await usageReport(database, { from: feb1, to: Date.UTC(2026, 2, 1), groupBy: [], interval: null });
        assert.equal(edge.totals.costMicros, 110, 'the row at `from` counts, the row at `to` does not');
      }));

    void it('a limit truncates the groups, never the totals', (t) =>
      withDatabase(t, async (database) => {
        await seed(database, seedRows(200));
        const query = { from: JAN_30, to: JAN_30 + 5 * DAY, groupBy: ['key' as const], interval: 'day' as const };
        const whole = await usageReport(database, query);
        const cut = await usageReport(database, { ...query, limit: 3 });
        assert.equal(cut.rows.length, 3);
        assert.equal(cut.truncated, true);
        assert.deepEqual(cut.totals, whole.totals);
        assert.deepEqual(cut.rows, whole.rows.slice(0, 3));
      }));
  });
}
