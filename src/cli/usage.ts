import type { Command } from 'commander';
import { parseUsageParams, usageReportCsv, usageReportJson, usageReportTable } from '../usage/usage-report-format.js';
import { usageReport } from '../usage/usage-report.js';
import { CliError, withStorage, type StorageOptions } from './open-storage.js';

interface UsageOptions extends StorageOptions {
  groupBy?: string;
  from?: string;
  to?: string;
  interval?: string;
  tenant?: string;
  key?: string;
  limit?: string;
  format: string;
}

/** `tollgate usage`: the usage report from the ledger, as a table, JSON or CSV. */
export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('usage from the ledger: requests, tokens and cost, grouped and bucketed')
    .option('-c, --config <path>', 'config file')
    .option('-g, --group-by <dims>', 'any of tenant,feature,model,key,user,provider,upstream_model')
    .option('--from <time>', 'ISO date/time or epoch ms, inclusive (default: start of this month, UTC)')
    .option('--to <time>', 'ISO date/time or epoch ms, exclusive (default: now)')
    .option('-i, --interval <interval>', 'hour, day or month buckets (UTC)')
    .option('--tenant <id>', 'only this tenant')
    .option('--key <id>', 'only this key')
    .option('--limit <n>', 'most groups shown (totals always cover all)')
    .option('-f, --format <format>', 'table, json or csv', 'table')
    .action(async (options: UsageOptions) => {
      if (!['table', 'json', 'csv'].includes(options.format))
        throw new CliError(`--format must be table, json or csv, got "${options.format}"`);
      await withStorage(options, async (database) => {
        const query = parseUsageParams(
          {
            group_by: options.groupBy,
            from: options.from,
            to: options.to,
            interval: options.interval,
            key: options.key,
            limit: options.limit,
          },
          Date.now(),
        );
        const report = await usageReport(database, options.tenant ? { ...query, tenant: options.tenant } : query);
        if (options.format === 'json') process.stdout.write(JSON.stringify(usageReportJson(report), null, 2) + '\n');
        else if (options.format === 'csv') process.stdout.write(usageReportCsv(report));
        else process.stdout.write(usageReportTable(report));
      });
    });
}
