import { z } from 'zod';

export const ledgerSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Rows buffered before a write is forced. */
    batchSize: z.number().int().positive().default(200),
    /** Longest a row waits in memory before it is written. */
    flushIntervalMs: z.number().int().positive().default(250),
    /** Rows kept in memory while the database is unreachable; the oldest are dropped past it (and counted). */
    maxBufferedRows: z.number().int().positive().default(100_000),
    /** The crash spool: rows journaled on local disk before each answer completes (accounting/spool/). */
    spool: z
      .object({
        enabled: z.boolean().default(true),
        /** Root directory (one slot per process inside). Default: `<sqlite file>-spool`, or `./data/spool` for PostgreSQL. */
        dir: z.string().min(1).optional(),
        /** `off` survives a process crash; `interval` also bounds a machine crash to `fsyncIntervalMs`; `always` to nothing. */
        fsync: z.enum(['off', 'interval', 'always']).default('interval'),
        fsyncIntervalMs: z.number().int().min(10).max(60_000).default(1_000),
        /** A segment file is sealed at this size and a new one started. */
        segmentBytes: z
          .number()
          .int()
          .min(4_096)
          .default(4 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type LedgerConfig = z.infer<typeof ledgerSchema>;
