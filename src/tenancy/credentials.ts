import { claimsToBeKey } from './key-secret.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * The credential a client sent, from the headers the SDKs use: `Authorization: Bearer <key>`
 * (openai, LangChain, Vercel AI SDK, curl), `x-api-key` (the Anthropic SDK) and `api-key`
 * (Azure-style clients). When several are present, one that looks like a Tollgate key wins —
 * a client may carry a provider key in one header and its Tollgate key in another — then the
 * order above. Returns null when none holds a value.
 *
 * @example credentialFrom({ authorization: 'Bearer tg-abc' }) // → 'tg-abc'
 */
export function credentialFrom(headers: Headers): string | null {
  const candidates: string[] = [];
  const authorization = first(headers.authorization)?.trim();
  if (authorization) {
    const match = /^bearer\s+(.+)$/i.exec(authorization);
    if (match) candidates.push(match[1]!.trim());
  }
  for (const name of ['x-api-key', 'api-key']) {
    const value = first(headers[name])?.trim();
    if (value) candidates.push(value);
  }
  return candidates.find(claimsToBeKey) ?? candidates[0] ?? null;
}
