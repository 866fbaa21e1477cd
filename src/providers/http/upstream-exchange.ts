import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** Past this many unread body bytes the socket is paused until the reader catches up. */
const HIGH_WATER = 64 * 1024;

/**
 * An upstream answer, past its headers. The body is read one network read at a time (`read`),
 * or whole (`text`); `release` says the caller is done with it.
 */
export interface UpstreamReply {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The next network read of the body, or null at its end; rejects with the transport error. */
  read(): Promise<Buffer | null>;
  /** The rest of the body as UTF-8 text. */
  text(): Promise<string>;
  /**
   * Done with the body. A body that has not ended is read on and discarded, up to `drainLimit`
   * bytes, so the keep-alive connection goes back to the pool (the end of a chunked response
   * often follows the last event in its own packet); past the limit, or with 0, the exchange is
   * aborted and the connection dropped.
   */
  release(drainLimit: number): void;
}

/**
 * One request on undici's dispatch API: the answer's body arrives as the socket reads it, in a
 * queue the caller drains, with no Node stream, async iterator or per-request AbortController in
 * between (what `Pool.request` adds). `signal` aborts the exchange at any point: before the
 * connection (the promise rejects at once), while waiting for headers, or mid-body (the next
 * `read` rejects). Resolves at the response headers; rejects with undici's error (map it with
 * `mapTransportError`).
 *
 * @example const reply = await exchange(pool, { method: 'POST', path: '/v1/chat/completions', headers, body }, signal);
 *   const text = await reply.text();
 */
export function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal,
): Promise<UpstreamReply> {
  return new Promise<UpstreamReply>((resolve, reject) => {
    const handler = new Exchange(signal, resolve, reject);
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', handler.onAbort);
    try {
      dispatcher.dispatch(options, handler);
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  });
}

class Exchange implements Dispatcher.DispatchHandler, UpstreamReply {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  private controller: Dispatcher.DispatchController | null = null;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | null = null;
  private started = false;
  private waiter: (() => void) | null = null;
  /** Bytes still accepted after `release` (-1 while the caller reads). */
  private discard = -1;

  constructor(
    private readonly signal: AbortSignal,
    private readonly resolve: (reply: UpstreamReply) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  readonly onAbort = (): void => {
    const reason = this.signal.reason as Error;
    if (this.controller) this.controller.abort(reason);
    else if (!this.started) {
      // Still waiting for a connection: answer now; the request is aborted when it gets one.
      this.started = true;
      this.reject(reason);
    }
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason as Error);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.started) return; // 1xx informational, or already answered (aborted)
    this.started = true;
    this.statusCode = statusCode;
    this.headers = headers;
    this.resolve(this);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.discard >= 0) {
      this.discard -= chunk.length;
      if (this.discard < 0) controller.abort(new Error('upstream body longer than the drain limit'));
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER) controller.pause();
    this.wake();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.detach();
    this.wake();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    this.detach();
    if (!this.started) {
      this.started = true;
      this.reject(error);
      return;
    }
    this.failure = error;
    this.wake();
  }

  read(): Promise<Buffer | null> {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.length;
      if (this.controller?.paused && this.queued <= HIGH_WATER / 2) this.controller.resume();
      return Promise.resolve(chunk);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise<void>((resolve) => (this.waiter = resolve)).then(() => this.read());
  }

  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) chunks.push(chunk);
    return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
  }

  release(drainLimit: number): void {
    if (this.ended || this.failure) return;
    this.queue.length = 0;
    this.queued = 0;
    if (drainLimit <= 0) {
      this.controller?.abort(new Error('upstream body released before its end'));
      return;
    }
    this.discard = drainLimit;
    if (this.controller?.paused) this.controller.resume();
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter();
    }
  }

  private detach(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
