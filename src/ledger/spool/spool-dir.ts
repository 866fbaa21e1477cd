import { createHash } from 'node:crypto';
import type { StorageConfig } from '../../storage/schema.js';
import type { LedgerConfig } from '../schema.js';

/**
 * Where the crash spool lives (`ledger.spool.dir`; by default beside the SQLite file, or
 * `./data/spool/<database hash>` for PostgreSQL), or null when there is none: off by config, or the ledger itself
 * is in memory (`sqlite::memory:` dies with the process: nothing to replay into).
 */
export function spoolDirFor(config: {
  ledger: LedgerConfig;
  storage: Pick<StorageConfig, 'url' | 'schema'>;
}): string | null {
  const { ledger, storage } = config;
  if (!ledger.enabled || !ledger.spool.enabled) return null;
  if (ledger.spool.dir) return ledger.spool.dir;
  if (storage.url.startsWith('sqlite:')) {
    const target = storage.url.slice('sqlite:'.length);
    return target === ':memory:' ? null : `${target}-spool`;
  }
  // One directory per database, so gateways of different databases run from one working
  // directory never replay each other's rows.
  const database = createHash('sha256')
    .update(`${storage.url.replace(/\/\/[^@/]*@/, '//')}#${storage.schema}`)
    .digest('hex')
    .slice(0, 12);
  return `./data/spool/${database}`;
}
