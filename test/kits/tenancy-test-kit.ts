// Test helpers for the tenancy tests; nothing in the gateway imports this file.
import pino from 'pino';
import { FakeClock } from '../../src/core/clock.js';
import type { Database } from '../../src/storage/database.js';
import { Authenticator, type AuthMode } from '../../src/tenancy/authenticator.js';
import { KeyCache } from '../../src/tenancy/key-cache.js';
import { createKeyStore, type KeyStore } from '../../src/tenancy/key-store.js';

export const silentLog = pino({ level: 'silent' });

/** A key store whose reads are counted and can be made to fail. */
export interface InstrumentedStore extends KeyStore {
  reads: { findByHash: number; changesSince: number };
  failReads: boolean;
}

export function instrument(store: KeyStore): InstrumentedStore {
  const wrapped: InstrumentedStore = {
    ...store,
    reads: { findByHash: 0, changesSince: 0 },
    failReads: false,
    async findByHash(hash) {
      wrapped.reads.findByHash++;
      if (wrapped.failReads) throw new Error('database unreachable (test)');
      return store.findByHash(hash);
    },
    async changesSince(version) {
      wrapped.reads.changesSince++;
      if (wrapped.failReads) throw new Error('database unreachable (test)');
      return store.changesSince(version);
    },
  };
  return wrapped;
}

export interface AuthRig {
  clock: FakeClock;
  /** Writes like another replica or the CLI would: the cache hears of them only by polling. */
  store: KeyStore;
  /** What the cache reads through (counted). */
  reads: InstrumentedStore;
  cache: KeyCache;
  authenticator: Authenticator;
  close(): Promise<void>;
}

/** A started cache and authenticator over `database`, on a fake clock (wall time starts 2026-01-01). */
export async function authRig(
  database: Pick<Database, 'db'>,
  options: { mode?: AuthMode; loopback?: boolean; refreshIntervalMs?: number; adminKey?: string } = {},
): Promise<AuthRig> {
  const clock = new FakeClock();
  const store = createKeyStore(database, { now: () => clock.wallNow() });
  const reads = instrument(createKeyStore(database, { now: () => clock.wallNow() }));
  const cache = new KeyCache({
    store: reads,
    refreshIntervalMs: options.refreshIntervalMs ?? 250,
    maxEntries: 1_000,
    clock,
    log: silentLog,
  });
  await cache.start();
  const authenticator = new Authenticator({
    mode: options.mode ?? 'keys',
    loopback: options.loopback ?? true,
    cache,
    clock,
    log: silentLog,
    adminKey: options.adminKey ?? null,
  });
  return { clock, store, reads, cache, authenticator, close: () => cache.close() };
}

/** Resolves once `condition` holds, letting real I/O (a SQL query) run between checks; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });
