import { Pool } from 'undici';
import type { TimeoutsConfig } from '../schema.js';

export interface UpstreamPool {
  readonly pool: Pool;
  /** Path of the base URL (`/v1`), prefixed to every request path. */
  readonly pathPrefix: string;
  readonly origin: string;
}

/**
 * One keep-alive connection pool per upstream base URL. undici's `Pool.request` is the fast
 * path here (2-5× `fetch` on this hardware): no WHATWG Request/Response or web streams.
 */
export function createUpstreamPool(baseUrl: string, timeouts: TimeoutsConfig, connections: number): UpstreamPool {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connect: { timeout: timeouts.connectMs },
    // First-byte, stall and total limits are the deployment pipeline's (policies/timeout.ts):
    // per deployment, on the gateway's clock, the same for every provider.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  return { pool, pathPrefix: url.pathname.replace(/\/+$/, ''), origin: url.origin };
}
