import { z } from 'zod';
import { secretSchema } from '../core/secret.js';

export const authSchema = z
  .object({
    /**
     * `auto`: keys required once any exists, or when `server.host` is not loopback; `keys`: always
     * required; `open`: calls without a Tollgate key run anonymously.
     */
    mode: z.enum(['auto', 'keys', 'open']).default('auto'),
    /** How often each replica polls for key changes: a revocation reaches every replica within about this. */
    refreshIntervalMs: z.number().int().min(50).max(60_000).default(250),
    /** Virtual keys kept in memory per replica (least recently used dropped past it). */
    cacheSize: z.number().int().positive().default(100_000),
  })
  .strict();

export const adminSchema = z
  .object({
    /** The admin API key (`/admin/v1`); the admin API is disabled without one. */
    apiKey: secretSchema.optional(),
  })
  .strict();

export type AuthConfig = z.infer<typeof authSchema>;
export type AdminConfig = z.infer<typeof adminSchema>;
