import type { CallRecord } from './context.js';
import type { ChatRequest, EmbeddingRequest } from './types.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** `metadata` keys that are Tollgate's (read here, removed before the request goes upstream). */
export const TOLLGATE_METADATA_KEYS = ['feature', 'tags'] as const;

const MAX_VALUE = 128;
const MAX_TAGS = 16;
const MAX_TAG = 64;

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Trims, drops control characters (no log or CSV injection through a header) and caps the length; '' → undefined. */
function clean(value: string | undefined, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return text.length === 0 ? undefined : text.slice(0, max);
}

const splitTags = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((t) => clean(t, MAX_TAG))
    .filter((t): t is string => t !== undefined);

/**
 * Who and what a call is for. The tenant is never read from the request: it comes from the key
 * (the principal). Per-request body fields win over headers, because headers are usually set
 * once per client (`defaultHeaders`) while the body is set per call:
 *
 * - feature: `metadata.feature`, else `x-tollgate-feature`;
 * - end user: `safety_identifier`, else the older `user`, else `x-tollgate-user`;
 * - tags: `metadata.tags` and `x-tollgate-tags` together (comma-separated, de-duplicated, at most 16).
 *
 * Values are trimmed, stripped of control characters and capped (128 characters; tags 64).
 *
 * @example
 * attribute(record, { model: 'm', messages, metadata: { feature: 'search' } }, { 'x-tollgate-tags': 'beta' });
 * // record.feature === 'search', record.tags → ['beta']
 */
export function attribute(record: CallRecord, request: ChatRequest | EmbeddingRequest, headers: Headers): void {
  const metadata = (request as ChatRequest).metadata ?? undefined;
  record.feature =
    clean(metadata?.feature, MAX_VALUE) ?? clean(header(headers, 'x-tollgate-feature'), MAX_VALUE) ?? null;
  record.user =
    clean((request as ChatRequest).safety_identifier, MAX_VALUE) ??
    clean(typeof request.user === 'string' ? request.user : undefined, MAX_VALUE) ??
    clean(header(headers, 'x-tollgate-user'), MAX_VALUE) ??
    null;
  const tags = [...splitTags(metadata?.tags), ...splitTags(header(headers, 'x-tollgate-tags'))];
  record.tags = [...new Set(tags)].slice(0, MAX_TAGS);
}

/**
 * The request as the upstream should see it: Tollgate's `metadata` keys removed (OpenAI refuses
 * `metadata` on calls that are not stored, and they are ours anyway), and `metadata` dropped when
 * nothing else is left in it. Returns the same object when there is nothing to remove.
 *
 * @example withoutTollgateFields({ model: 'm', messages, metadata: { feature: 'x' } }) // → { model: 'm', messages }
 */
export function withoutTollgateFields<T extends ChatRequest | EmbeddingRequest>(request: T): T {
  const metadata = (request as ChatRequest).metadata;
  if (!metadata || !TOLLGATE_METADATA_KEYS.some((key) => key in metadata)) return request;
  const rest = Object.fromEntries(
    Object.entries(metadata).filter(([key]) => !(TOLLGATE_METADATA_KEYS as readonly string[]).includes(key)),
  );
  const { metadata: _dropped, ...withoutMetadata } = request as ChatRequest;
  return (Object.keys(rest).length > 0 ? { ...withoutMetadata, metadata: rest } : withoutMetadata) as T;
}
