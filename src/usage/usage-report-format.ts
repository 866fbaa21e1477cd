import { GatewayError } from '../core/errors.js';
import {
  USAGE_DIMENSIONS,
  type UsageDimension,
  type UsageInterval,
  type UsageMetrics,
  type UsageQuery,
  type UsageReport,
  type UsageRow,
} from './usage-report.js';

const INTERVALS: readonly UsageInterval[] = ['hour', 'day', 'month'];
const MAX_LIMIT = 100_000;
/** The latest time a JavaScript Date holds (year 275760): anything later cannot be reported. */
const MAX_TIME_MS = 8_640_000_000_000_000;

const bad = (param: string, message: string): never => {
  throw new GatewayError('invalid_request', `Invalid usage query: '${param}' ${message}.`, { param });
};

/**
 * A time given as epoch ms (all digits) or ISO 8601 (`2026-01-15`, `2026-01-15T10:00:00Z`);
 * a date-time without an offset is read as UTC.
 */
export function parseTime(value: string, param: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    return ms <= MAX_TIME_MS ? ms : bad(param, `is out of range: epoch ms must be from 0 to ${MAX_TIME_MS}`);
  }
  const utc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(utc) ? Date.parse(utc) : Number.NaN;
  return Number.isFinite(ms) ? ms : bad(param, `must be an ISO date (2026-01-15, 2026-01-15T10:00:00Z) or epoch ms`);
}

/** Start of the current UTC month. */
const monthStart = (now: number): number => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/**
 * Reads the report's query parameters (`group_by`, `from`, `to`, `interval`, `limit`, `key`) as
 * the admin API, the tenant route and the CLI take them. Defaults: from the start of the current
 * UTC month to now, no grouping, no interval.
 *
 * @example parseUsageParams({ group_by: 'tenant,model', interval: 'day' }, Date.now())
 */
export function parseUsageParams(params: Record<string, string | undefined>, now: number): UsageQuery {
  const groupBy = (params.group_by ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  for (const d of groupBy)
    if (!Object.hasOwn(USAGE_DIMENSIONS, d))
      bad('group_by', `has "${d}"; use any of ${Object.keys(USAGE_DIMENSIONS).join(', ')}`);
  const interval = params.interval?.trim() || null;
  if (interval !== null && !INTERVALS.includes(interval as UsageInterval))
    bad('interval', `must be one of ${INTERVALS.join(', ')}`);
  const to = params.to ? parseTime(params.to, 'to') : now;
  const from = params.from ? parseTime(params.from, 'from') : monthStart(now);
  if (from >= to) bad('from', 'must be before `to`');
  let limit: number | undefined;
  if (params.limit !== undefined) {
    limit = Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) bad('limit', `must be an integer 1–${MAX_LIMIT}`);
  }
  return {
    from,
    to,
    groupBy: [...new Set(groupBy)] as UsageDimension[],
    interval: interval as UsageInterval | null,
    ...(limit !== undefined ? { limit } : {}),
    ...(params.key ? { keyId: params.key } : {}),
  };
}

/** Integer micro-dollars → exact decimal dollars (`1234` → `0.001234`). */
export function microsToDollars(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

const metricsJson = (m: UsageMetrics) => ({
  requests: m.requests,
  errors: m.errors,
  input_tokens: m.inputTokens,
  output_tokens: m.outputTokens,
  cached_tokens: m.cachedTokens,
  cost_micros: m.costMicros,
  cost_usd: microsToDollars(m.costMicros),
});

const iso = (ms: number): string => new Date(ms).toISOString();

/** The report as the HTTP API sends it (snake_case, ISO times, exact dollars beside micro-dollars). */
export function usageReportJson(report: UsageReport) {
  const { query } = report;
  return {
    object: 'usage_report' as const,
    from: iso(query.from),
    to: iso(query.to),
    tenant: query.tenant,
    interval: query.interval,
    group_by: query.groupBy,
    data: report.rows.map((row) => ({
      ...(query.interval !== null && row.period !== null ? { period: iso(row.period) } : {}),
      ...row.group,
      ...metricsJson(row),
    })),
    totals: metricsJson(report.totals),
    truncated: report.truncated,
  };
}

const METRIC_COLUMNS = [
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cost_micros',
  'cost_usd',
] as const;

function columnsOf(report: UsageReport): string[] {
  return [...(report.query.interval ? ['period'] : []), ...report.query.groupBy, ...METRIC_COLUMNS];
}

function cellsOf(report: UsageReport, row: UsageRow): string[] {
  const metrics = metricsJson(row);
  return [
    ...(report.query.interval && row.period !== null ? [iso(row.period)] : []),
    ...report.query.groupBy.map((d) => row.group[d] ?? ''),
    ...METRIC_COLUMNS.map((c) => String(metrics[c])),
  ];
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading = + - @ is defused for spreadsheets. */
function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One header line and one line per group (CRLF, RFC 4180); totals are not a row (sum the columns). */
export function usageReportCsv(report: UsageReport): string {
  const lines = [columnsOf(report), ...report.rows.map((row) => cellsOf(report, row))];
  return lines.map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A fixed-width table for terminals, ending with a TOTAL line (cost in dollars; micro-dollars left out). */
export function usageReportTable(report: UsageReport): string {
  const { query } = report;
  const labels = [...(query.interval ? ['period'] : []), ...query.groupBy];
  const metrics = METRIC_COLUMNS.filter((c) => c !== 'cost_micros');
  const labelColumns = labels.length > 0 ? labels : [''];
  const header = [...labelColumns, ...metrics];
  const metricCells = (m: UsageMetrics): string[] => {
    const json = metricsJson(m);
    return metrics.map((c) => String(json[c]));
  };
  const body =
    labels.length === 0
      ? []
      : report.rows.map((row) => [
          ...(query.interval && row.period !== null ? [iso(row.period)] : []),
          ...query.groupBy.map((d) => row.group[d] ?? '-'),
          ...metricCells(row),
        ]);
  const totals = ['TOTAL', ...labelColumns.slice(1).map(() => ''), ...metricCells(report.totals)];
  const all = [header, ...body, totals];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i >= labelColumns.length ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const scope = query.tenant ? ` · tenant ${query.tenant}` : '';
  const note = report.truncated ? `\n(only the first ${report.rows.length} groups shown; the totals cover all)` : '';
  const rows = body.length > 0 ? [...body.map(line), rule] : [];
  return (
    [`${iso(query.from)} → ${iso(query.to)}${scope}`, '', line(header), rule, ...rows, line(totals)].join('\n') +
    note +
    '\n'
  );
}
