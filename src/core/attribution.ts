import type { CallRecord } from './context.js';
import type { ChatRequest, EmbeddingRequest } from './types.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Who and what a call is for, from OpenAI-native body fields first (they survive every SDK),
 * then Tollgate headers: feature (`metadata.feature` / `x-tollgate-feature`), end user
 * (`safety_identifier`, `user`, `x-tollgate-user`) and tags (`metadata.tags`, `x-tollgate-tags`,
 * comma-separated).
 */
export function attribute(record: CallRecord, request: ChatRequest | EmbeddingRequest, headers: Headers): void {
  const metadata = (request as ChatRequest).metadata ?? undefined;
  record.feature = metadata?.feature ?? header(headers, 'x-tollgate-feature') ?? null;
  record.user =
    (request as ChatRequest).safety_identifier ??
    (typeof request.user === 'string' ? request.user : undefined) ??
    header(headers, 'x-tollgate-user') ??
    null;
  const tags = metadata?.tags ?? header(headers, 'x-tollgate-tags');
  record.tags = tags
    ? tags
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0)
        .slice(0, 16)
    : [];
}
