import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { GatewayError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { openDatabase, type Database } from '../storage/database.js';
import { CliError } from './cli-error.js';

export { CliError };

export interface StorageOptions {
  config?: string;
}

/**
 * Runs `fn` against the database the configuration names (migrated first), then closes it. The
 * CLI's tenant, key and usage commands work on the database directly, so they need no running
 * gateway; a running one picks their changes up at its next key refresh.
 */
export async function withStorage<T>(
  options: StorageOptions,
  fn: (database: Database, config: Config) => Promise<T>,
): Promise<T> {
  const { config } = await loadConfig(options.config ? { path: options.config } : {});
  const database = await openDatabase({
    url: config.storage.url,
    schema: config.storage.schema,
    ...(config.storage.password ? { password: config.storage.password.reveal() } : {}),
    log: pino({ level: 'silent' }),
  });
  try {
    return await fn(database, config);
  } catch (err) {
    const expected = err instanceof GatewayError || err instanceof RangeError;
    throw expected || err instanceof SyntaxError ? new CliError(err.message, { cause: err }) : err;
  } finally {
    await database.close();
  }
}

/**
 * `90s`, `30m`, `24h`, `7d` → milliseconds; `0` is zero.
 *
 * @example parseDuration('24h') // → 86_400_000
 */
export function parseDuration(text: string, what: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match || (match[2] === undefined && match[1] !== '0'))
    throw new CliError(`${what} "${text}" is not a duration like 90s, 30m, 24h, 7d (or 0)`);
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * (units[match[2] ?? 'ms'] ?? 1);
}

/** A point in time: a duration from now (`30d`) or an ISO date/time (UTC unless it has an offset). */
export function parseWhen(text: string, now: number, what: string): number {
  if (/^\s*\d+\s*(ms|s|m|h|d)\s*$/.test(text)) return now + parseDuration(text, what);
  const utc = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(utc) ? Date.parse(utc) : Number.NaN;
  if (!Number.isFinite(ms)) throw new CliError(`${what} "${text}" is not a duration (30d) or an ISO date (2026-12-31)`);
  return ms;
}

/** Splits `a,b , c` into a list; empty items dropped. */
export const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Commander collector for repeatable options (`--budget 50/month --budget 5/day`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
