/** What a redacted credential reads as. */
export const REDACTED = '[redacted]';

/**
 * Credential shapes redacted wherever they appear: bearer tokens, OpenAI (`sk-…`, `sk-proj-…`,
 * masked `sk-…****abcd` included) and Anthropic (`sk-ant-…`) keys, Tollgate virtual keys (`tg-…`),
 * AWS access key ids and Google API keys.
 */
const SHAPES = [
  String.raw`\b[Bb]earer\s+[A-Za-z0-9._~+/=*-]{8,}`,
  String.raw`\bsk-[A-Za-z0-9_*-]{8,}`,
  String.raw`\btg-[A-Za-z0-9]{16,}`,
  String.raw`\bAKIA[0-9A-Z]{16}\b`,
  String.raw`\bAIza[0-9A-Za-z_-]{35}`,
];

/** Exact secrets shorter than this are not matched: they would blank out ordinary words. */
const MIN_SECRET_LENGTH = 6;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Builds the one redaction function for upstream text (error messages relayed to clients and
 * written to logs): every credential shape above, and the exact `secrets` given — the configured
 * provider keys, known from config, whatever their shape — are replaced by `[redacted]`.
 *
 * @example const redact = secretRedactor(['my-vllm-token-123']);
 *   redact('Incorrect API key provided: my-vllm-token-123 (Bearer abcdefgh12345678)')
 *   // → 'Incorrect API key provided: [redacted] ([redacted])'
 */
export function secretRedactor(secrets: readonly (string | undefined)[] = []): (text: string) => string {
  const exact = [...new Set(secrets.filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH))]
    .sort((a, b) => b.length - a.length)
    .map(escape);
  const pattern = new RegExp([...exact, ...SHAPES].join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

/** Header names whose configured values are credentials (`authorization`, `api-key`, `x-goog-api-key`, …). */
const SECRET_HEADER = /authorization|api-?key|token|secret/i;

/**
 * The secrets a provider's config holds: its `apiKey` and the values of credential-like
 * `headers` (with and without a `Bearer ` prefix).
 */
export function providerSecrets(config: {
  apiKey?: { reveal(): string } | undefined;
  headers?: Readonly<Record<string, string>>;
}): string[] {
  const out: string[] = [];
  if (config.apiKey) out.push(config.apiKey.reveal());
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    if (!SECRET_HEADER.test(name)) continue;
    out.push(value, value.replace(/^bearer\s+/i, ''));
  }
  return out;
}
