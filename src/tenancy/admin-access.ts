import { GatewayError } from '../core/errors.js';
import type { Authenticator } from './authenticator.js';
import { credentialFrom } from './credentials.js';
import { constantTimeEquals } from './key-secret.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Lets a request into `/admin/v1` only with the admin key (`admin.apiKey`), compared in constant
 * time. A valid tenant key gets 403 (it is a real credential, just not this one); anything else
 * 401. With no admin key configured the admin API does not exist: 404 saying how to enable it.
 *
 * @example await checkAdminAccess(req.headers, config.admin.apiKey?.reveal() ?? null, authenticator);
 */
export async function checkAdminAccess(
  headers: Headers,
  adminKey: string | null,
  authenticator: Authenticator,
): Promise<void> {
  if (adminKey === null)
    throw new GatewayError(
      'not_found',
      'The admin API is disabled: set `admin.apiKey` in the configuration to enable it (or use the `tollgate keys` CLI).',
    );
  const credential = credentialFrom(headers);
  if (credential === null)
    throw new GatewayError(
      'unauthorized',
      'The admin API needs the admin key: `Authorization: Bearer <admin.apiKey>`.',
      {
        wireCode: 'invalid_api_key',
      },
    );
  if (constantTimeEquals(credential, adminKey)) return;
  let tenantKey: boolean;
  try {
    const match = await authenticator.find(credential);
    tenantKey = match !== null && authenticator.check(match, credential) === match;
  } catch {
    tenantKey = false; // unknown, revoked, expired or unreadable: not a usable tenant key → 401 below
  }
  if (tenantKey) throw new GatewayError('forbidden', 'Tenant keys cannot use the admin API; send the admin key.');
  throw new GatewayError('unauthorized', 'Incorrect admin key provided.', { wireCode: 'invalid_api_key' });
}
