import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { ANONYMOUS, type Principal } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import { credentialFrom } from './credentials.js';
import type { KeyCache, KeyMatch } from './key-cache.js';
import { claimsToBeKey, constantTimeEquals, hashKeySecret, isKeyShaped } from './key-secret.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * - `keys`: every call needs a valid virtual key.
 * - `open`: calls without a Tollgate key run anonymously; a `tg-` key, when sent, is still checked.
 * - `auto` (default): `keys` once any key exists or when the listener is not loopback; `open`
 *   before the first key is created on a loopback listener (the embedded default, with a warning).
 */
export type AuthMode = 'auto' | 'keys' | 'open';

export interface AuthenticatorOptions {
  mode: AuthMode;
  /** Whether the listener is loopback only (`auto` may then run open until the first key exists). */
  loopback: boolean;
  cache: KeyCache;
  clock: Clock;
  log: Logger;
  /** The admin key, to tell a caller who sends it to /v1 what went wrong. */
  adminKey?: string | null;
}

const WHERE_TO_PUT_IT =
  'Send your Tollgate key as `Authorization: Bearer tg-…` (or `x-api-key`); create one with `tollgate keys create`.';

const unauthorized = (message: string): GatewayError =>
  new GatewayError('unauthorized', message, { wireCode: 'invalid_api_key' });

const principals = new WeakMap<KeyMatch['record'], Principal>();

/** The principal a key grants (one object per cached key record, not one per call). */
export function principalOf(match: KeyMatch): Principal {
  const { record } = match;
  let principal = principals.get(record);
  if (principal === undefined) {
    principal = principalFrom(record);
    principals.set(record, principal);
  }
  return principal;
}

function principalFrom(record: KeyMatch['record']): Principal {
  return {
    tenant: record.tenant,
    keyId: record.id,
    allowedModels: record.allowedModels,
    keyName: record.name,
    rateLimits: { rpm: record.rpmLimit, tpm: record.tpmLimit },
  };
}

/**
 * Turns request headers into a `Principal`: finds the credential, checks it against the key
 * cache (no SQL once a key is cached), and applies expiry, revocation and rotation grace at the
 * moment of the call. Every refusal is a 401 `unauthorized` with OpenAI's `invalid_api_key` code,
 * which the SDKs raise as `AuthenticationError`.
 *
 * @example
 * const principal = await authenticator.authenticate(req.headers); // throws GatewayError 401
 */
export class Authenticator {
  readonly #options: AuthenticatorOptions;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  /** Whether calls need a key right now (`auto` switches to true once the first key is created). */
  get keysRequired(): boolean {
    const { mode, loopback, cache } = this.#options;
    if (mode === 'keys') return true;
    if (mode === 'open') return false;
    return !loopback || cache.version > 0;
  }

  /** The principal for these headers; throws 401 `unauthorized` (or 503 `auth_unavailable`). */
  async authenticate(headers: Headers): Promise<Principal> {
    return this.resolve(headers);
  }

  /**
   * As `authenticate`, but answers synchronously when it can — no key required, or the key is
   * cached, the common case — and returns a promise only when the key store must be read.
   * Throws (synchronously) on a refusal it can decide at once.
   */
  resolve(headers: Headers): Principal | Promise<Principal> {
    const credential = credentialFrom(headers);
    if (!this.keysRequired && (credential === null || !claimsToBeKey(credential))) return ANONYMOUS;
    if (credential === null) throw unauthorized(`You didn't provide an API key. ${WHERE_TO_PUT_IT}`);
    if (isKeyShaped(credential)) {
      const cached = this.#options.cache.peek(hashKeySecret(credential));
      if (cached !== undefined) return principalOf(this.check(cached, credential));
    }
    return this.find(credential).then((match) => principalOf(this.check(match, credential)));
  }

  /** The cached key for a credential, or null; reads the database on a miss. */
  async find(credential: string): Promise<KeyMatch | null> {
    if (!isKeyShaped(credential)) return null;
    const hash = hashKeySecret(credential);
    const { cache } = this.#options;
    const cached = cache.peek(hash);
    if (cached !== undefined) return cached;
    try {
      return await cache.load(hash);
    } catch (err) {
      this.#options.log.error({ err }, 'cannot read the key store to check an API key');
      throw new GatewayError('auth_unavailable', 'The API key could not be checked right now; retry shortly.', {
        retryAfterMs: 1000,
        cause: err,
      });
    }
  }

  /** Applies revocation, expiry and rotation grace to a looked-up key. */
  check(match: KeyMatch | null, credential: string): KeyMatch {
    const { adminKey, clock } = this.#options;
    if (match === null) {
      if (adminKey && constantTimeEquals(credential, adminKey))
        throw unauthorized('The admin key only opens /admin/v1; call models with a virtual key (tg-…).');
      throw unauthorized(`Incorrect API key provided. ${WHERE_TO_PUT_IT}`);
    }
    const { record, secret } = match;
    const now = clock.wallNow();
    if (record.revokedAt !== null) throw unauthorized(`This API key (${record.prefix}…) was revoked.`);
    if (record.expiresAt !== null && record.expiresAt <= now)
      throw unauthorized(`This API key (${record.prefix}…) expired at ${new Date(record.expiresAt).toISOString()}.`);
    if (secret === 'previous' && (record.previousExpiresAt === null || record.previousExpiresAt <= now)) {
      const ended = record.previousExpiresAt === null ? '' : ` at ${new Date(record.previousExpiresAt).toISOString()}`;
      throw unauthorized(`This API key was rotated and its grace period ended${ended}; use the new key.`);
    }
    return match;
  }
}

/**
 * Refuses a call to an alias the principal may not use: 403 `forbidden` naming the model,
 * which the SDKs raise as `PermissionDeniedError`.
 */
export function authorizeModel(principal: Principal, model: string): void {
  const allowed = principal.allowedModels;
  if (allowed === null || allowed.includes(model)) return;
  throw new GatewayError(
    'forbidden',
    `This API key may not use the model \`${model}\`; it may use: ${allowed.join(', ')}.`,
    { param: 'model' },
  );
}
