import type { Config } from '../../config/schema.js';

/**
 * Where the crash spool lives, or null when there is none: off by config, or the ledger itself
 * is in memory (`sqlite::memory:` dies with the process: nothing to replay into).
 */
export function spoolDirFor(config: Pick<Config, 'ledger' | 'storage'>): string | null {
  const { ledger, storage } = config;
  if (!ledger.enabled || !ledger.spool.enabled) return null;
  if (ledger.spool.dir) return ledger.spool.dir;
  if (storage.url.startsWith('sqlite:')) {
    const target = storage.url.slice('sqlite:'.length);
    return target === ':memory:' ? null : `${target}-spool`;
  }
  return './data/spool';
}
