import { z } from 'zod';
import { secretSchema } from '../core/secret.js';

export const storageSchema = z
  .object({
    /** `sqlite:./data/tollgate.db`, `sqlite::memory:` or `postgres://user@host:5432/db`. */
    url: z
      .string()
      .refine((u) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(u), 'must start with sqlite: or postgres://')
      .default('sqlite:./data/tollgate.db'),
    /** PostgreSQL schema to use (created if missing). */
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case identifier')
      .default('public'),
    password: secretSchema.optional(),
  })
  .strict();

export const redisSchema = z
  .object({
    /** `redis://host:6379/0` or `rediss://…` (a password here is masked by `config check --print`; `password` keeps it out of the file). */
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    password: secretSchema.optional(),
    /** Prefix of every key Tollgate writes, so several deployments can share one Redis. */
    keyPrefix: z.string().default('tollgate:'),
    /** A command not answered within this time counts as Redis being down. */
    commandTimeoutMs: z.number().int().positive().default(500),
  })
  .strict();

export type StorageConfig = z.infer<typeof storageSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
