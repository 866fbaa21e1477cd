import { GatewayError } from '../../core/errors.js';

/**
 * A route's query string as one string per parameter. A parameter given more than once arrives
 * as an array (`?tenant=a&tenant=b`), which no route takes: 400 naming it, rather than a value
 * of the wrong type reaching string methods or SQL.
 *
 * @example singleValued({ group_by: 'tenant,model' }) // → { group_by: 'tenant,model' }
 */
export function singleValued(query: unknown): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  if (query === null || typeof query !== 'object') return params;
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      throw new GatewayError(
        'invalid_request',
        `Invalid query: '${name}' is given more than once; give it once (a comma-separated list where it takes several values).`,
        { param: name },
      );
    }
    params[name] = value;
  }
  return params;
}

/** A yes/no query flag: `true`/`1` or `false`/`0`; absent is `false`; anything else 400 naming it. */
export function queryFlag(params: Record<string, string | undefined>, name: string): boolean {
  const value = params[name]?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new GatewayError('invalid_request', `Invalid query: '${name}' must be true, false, 1 or 0.`, { param: name });
}
