import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../storage/database.js';
import {
  microsToDollars,
  parseTime,
  parseUsageParams,
  usageReportCsv,
  usageReportTable,
} from './usage-report-format.js';
import { usageReportContract } from '../../test/kits/usage-report-contract.js';
import type { UsageReport } from './usage-report.js';

usageReportContract('SQLite', async (_t, fn) => {
  const database = await openDatabase({ url: 'sqlite::memory:' });
  try {
    await fn(database);
  } finally {
    await database.close();
  }
});

describe('usage report parameters and formats', () => {
  const now = Date.UTC(2026, 4, 17, 12);

  it('defaults to this UTC month so far, and reads ISO times as UTC', () => {
    const query = parseUsageParams({}, now);
    assert.equal(query.from, Date.UTC(2026, 4, 1));
    assert.equal(query.to, now);
    assert.deepEqual(query.groupBy, []);
    assert.equal(parseTime('2026-01-15T10:00', 'from'), Date.UTC(2026, 0, 15, 10));
    assert.equal(parseTime('2026-01-15', 'from'), Date.UTC(2026, 0, 15));
    assert.equal(parseTime('1767225600000', 'from'), 1_767_225_600_000);
  });

  it('refuses what it does not know, naming the parameter', () => {
    assert.throws(() => parseUsageParams({ group_by: 'tenant,colour' }, now), /'group_by' has "colour"/);
    assert.throws(() => parseUsageParams({ interval: 'week' }, now), /'interval' must be one of hour, day, month/);
    assert.throws(() => parseUsageParams({ from: 'yesterday' }, now), /'from' must be an ISO date/);
    assert.throws(() => parseUsageParams({ from: '2026-06-01', to: '2026-05-01' }, now), /before/);
    assert.throws(() => parseUsageParams({ limit: '0' }, now), /'limit'/);
  });

  it('prints money exactly', () => {
    assert.equal(microsToDollars(0), '0.000000');
    assert.equal(microsToDollars(1_234), '0.001234');
    assert.equal(microsToDollars(12_345_678_901), '12345.678901');
  });

  const report: UsageReport = {
    query: { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2), groupBy: ['tenant', 'feature'], interval: 'day' },
    rows: [
      {
        period: Date.UTC(2026, 0, 1),
        group: { tenant: 'acme', feature: 'say "hi", =cmd()' },
        requests: 2,
        errors: 0,
        inputTokens: 10,
        outputTokens: 20,
        cachedTokens: 0,
        costMicros: 1_500,
      },
      {
        period: Date.UTC(2026, 0, 1),
        group: { tenant: 'acme', feature: null },
        requests: 1,
        errors: 1,
        inputTokens: 0,
        outputTokens: 0,
        cachedTokens: 0,
        costMicros: 0,
      },
    ],
    totals: { requests: 3, errors: 1, inputTokens: 10, outputTokens: 20, cachedTokens: 0, costMicros: 1_500 },
    truncated: false,
  };

  it('CSV: RFC 4180 quoting, formula-looking cells defused, nulls empty', () => {
    assert.equal(
      usageReportCsv(report),
      'period,tenant,feature,requests,errors,input_tokens,output_tokens,cached_tokens,cost_micros,cost_usd\r\n' +
        '2026-01-01T00:00:00.000Z,acme,"say ""hi"", =cmd()",2,0,10,20,0,1500,0.001500\r\n' +
        '2026-01-01T00:00:00.000Z,acme,,1,1,0,0,0,0,0.000000\r\n',
    );
  });

  it('table: aligned columns and a TOTAL line', () => {
    const table = usageReportTable(report);
    assert.match(table, /^2026-01-01T00:00:00\.000Z → 2026-01-02T00:00:00\.000Z\n/);
    assert.match(
      table,
      /\nperiod +tenant +feature +requests +errors +input_tokens +output_tokens +cached_tokens +cost_usd\n/,
    );
    assert.match(table, /\nTOTAL +3 +1 +10 +20 +0 +0\.001500\n$/);
    const lines = table.trimEnd().split('\n').slice(2);
    assert.equal(new Set(lines.map((l) => l.length)).size <= 3, true, 'rows line up');
  });
});
