import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';

export interface WebhookOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  maxAttempts: number;
  /** First backoff; doubles each retry, capped at 60 s, with up to 25% jitter subtracted. */
  backoffMs: number;
  clock: Clock;
  log: Logger;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * POSTs JSON to a webhook, retrying network errors, timeouts, 408, 429 and 5xx with
 * exponential backoff (honouring `retry-after` in seconds when the receiver sends one). Other
 * 4xx are not retried: the receiver refuses the payload and repeating it will not help.
 * Resolves true once delivered, false after the last attempt; never rejects.
 *
 * @example await postWebhook({ text: 'hello' }, { url, headers: {}, timeoutMs: 5000, maxAttempts: 6, backoffMs: 1000, clock, log });
 */
export async function postWebhook(payload: unknown, options: WebhookOptions): Promise<boolean> {
  const body = JSON.stringify(payload);
  let delay = options.backoffMs;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    let retryAfterMs: number | null = null;
    let failure: string;
    try {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      failure = `HTTP ${res.status}`;
      if (res.status !== 408 && res.status !== 429 && res.status < 500) {
        options.log.error({ status: res.status, attempt }, 'alert webhook refused the alert; not retrying');
        return false;
      }
      const header = Number(res.headers.get('retry-after'));
      if (Number.isFinite(header) && header > 0) retryAfterMs = Math.min(header * 1000, MAX_BACKOFF_MS);
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    if (attempt === options.maxAttempts) {
      options.log.error({ attempts: attempt, failure }, 'alert webhook: giving up');
      return false;
    }
    const wait = retryAfterMs ?? Math.round(delay * (1 - Math.random() * 0.25));
    options.log.warn({ attempt, failure, retryInMs: wait }, 'alert webhook failed; retrying');
    await options.clock.sleep(wait);
    delay = Math.min(delay * 2, MAX_BACKOFF_MS);
  }
  return false;
}
