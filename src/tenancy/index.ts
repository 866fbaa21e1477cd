import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Database } from '../storage/database.js';
import { Authenticator } from './authenticator.js';
import { KeyCache } from './key-cache.js';
import { createKeyStore, type KeyStore } from './key-store.js';
import { isLoopbackHost } from './loopback.js';
import type { AdminConfig, AuthConfig } from './schema.js';

/** The settings tenancy reads: `auth`, `admin`, and `server.host` (keys are required off loopback). */
export interface TenancyConfig {
  auth: AuthConfig;
  admin: AdminConfig;
  server: { host: string };
}

export { Authenticator, authorizeModel, principalOf, type AuthMode } from './authenticator.js';
export { checkAdminAccess } from './admin-access.js';
export { credentialFrom } from './credentials.js';
export { KeyCache, type KeyMatch } from './key-cache.js';
export { createKeyStore, DEFAULT_GRACE_MS, MAX_GRACE_MS, type KeyStore } from './key-store.js';
export { constantTimeEquals, generateKeySecret, hashKeySecret } from './key-secret.js';
export { isLoopbackHost } from './loopback.js';
export * from './types.js';

/** Tenants, keys and authentication, as one gateway process runs them. */
export interface Tenancy {
  readonly store: KeyStore;
  readonly cache: KeyCache;
  readonly authenticator: Authenticator;
  /** The admin key (revealed), or null when the admin API is disabled. */
  readonly adminKey: string | null;
  /** Stops the refresh poll. */
  close(): Promise<void>;
}

/**
 * Wires the key store, the key cache (started: it polls for changes) and the authenticator, and
 * says at start-up — loudly — whether calls run open.
 *
 * @example const tenancy = await createTenancy(database, config, { clock, log });
 */
export async function createTenancy(
  database: Pick<Database, 'db'>,
  config: TenancyConfig,
  { clock, log }: { clock: Clock; log: Logger },
): Promise<Tenancy> {
  let cache: KeyCache | null = null;
  // Writes made by this process (admin API) reach its own cache at once, not at the next poll.
  const store = createKeyStore(database, {
    now: () => clock.wallNow(),
    onChange: () => void cache?.refresh().catch((err: unknown) => log.error({ err }, 'key refresh failed')),
  });
  cache = new KeyCache({
    store,
    refreshIntervalMs: config.auth.refreshIntervalMs,
    maxEntries: config.auth.cacheSize,
    clock,
    log,
  });
  await cache.start();
  const adminKey = config.admin.apiKey?.reveal() ?? null;
  const loopback = isLoopbackHost(config.server.host);
  const authenticator = new Authenticator({ mode: config.auth.mode, loopback, cache, clock, log, adminKey });
  announce(config, loopback, cache.version > 0, log);
  let announced = false;
  if (!authenticator.keysRequired) {
    cache.onChange(() => {
      if (authenticator.keysRequired && !announced) {
        announced = true;
        log.warn('the first virtual key exists: every call now needs a key (auth.mode auto)');
      }
    });
  }
  return { store, cache, authenticator, adminKey, close: () => cache.close() };
}

function announce(
  config: Pick<TenancyConfig, 'auth' | 'server'>,
  loopback: boolean,
  keysExist: boolean,
  log: Logger,
): void {
  const { mode } = config.auth;
  const host = config.server.host;
  if (mode === 'open' && !loopback) {
    log.warn(
      { host, authMode: mode },
      `AUTHENTICATION IS OFF on ${host}, which is not loopback (auth.mode: open): anyone who can reach this port can spend your provider credits`,
    );
  } else if (mode === 'open' || (mode === 'auto' && loopback && !keysExist)) {
    log.warn(
      { host, authMode: mode },
      `AUTHENTICATION IS OFF: no virtual keys exist and the listener (${host}) is loopback only, so calls run without a key. Create one with \`tollgate keys create --tenant <id>\`; from then on every call needs a key.`,
    );
  } else if (!keysExist) {
    log.warn(
      { host, authMode: mode },
      `every call needs a virtual key, and none exists yet: calls get 401 until you create one (\`tollgate keys create --tenant <id>\` or POST /admin/v1/keys)`,
    );
  }
}
