type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Never copied upstream, whatever the patterns say: the client's own credentials and hop-by-hop framing. */
const NEVER = new Set(['authorization', 'x-api-key', 'api-key', 'host', 'content-length', 'cookie']);

/**
 * Compiles a provider's `forwardHeaders` (exact names or `prefix*`) once. Returns null when
 * nothing is forwarded, so the hot path then copies nothing. The client's credentials
 * (`authorization`, `x-api-key`, `api-key`, cookies) are never forwarded: they are keys to this gateway.
 *
 * @example const forward = headerForwarder(['x-mock-*']);
 *   forward?.({ 'x-mock-hang': '1', 'x-api-key': 'k' }, { accept: 'application/json' })
 *   // → { accept: 'application/json', 'x-mock-hang': '1' }
 */
export function headerForwarder(
  patterns: readonly string[],
): ((incoming: IncomingHeaders, base: Record<string, string>) => Record<string, string>) | null {
  if (patterns.length === 0) return null;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (incoming, base) => {
    const out = { ...base };
    for (const name in incoming) {
      if (NEVER.has(name)) continue;
      if (exact.has(name) || prefixes.some((p) => name.startsWith(p))) {
        const value = incoming[name];
        if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    return out;
  };
}
