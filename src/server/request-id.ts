import { randomUUID } from 'node:crypto';

const VALID = /^[\w.:@/+=-]{1,128}$/;

/** Honours a client's `x-request-id` when it is a sane token, otherwise makes one. */
export function requestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && VALID.test(value) ? value : `req_${randomUUID().replaceAll('-', '')}`;
}
