import type { ServerResponse } from 'node:http';
import type { CallContext } from '../core/context.js';
import { GatewayError, toGatewayError } from '../core/errors.js';
import type { ChunkBatch } from '../core/chunk-batch.js';
import { writeRawError } from './error-response.js';
import { SSE_HEADERS, endWith, openaiStreamFormat, writeFrame, type StreamFormat } from './sse.js';

export interface StreamOptions {
  /** Headers for the 200 (request id, deployment, ...). */
  headers: Record<string, string>;
  /** Registers a way to cut this stream at the shutdown deadline; returns an unregister function. */
  track: (cut: (error: GatewayError) => void) => () => void;
  /** Aborts the upstream call. */
  abort: (reason: GatewayError) => void;
  /** The route's wire format; OpenAI's unless told (`/v1/messages` streams Anthropic events). */
  format?: StreamFormat;
}

/**
 * Relays a committed stream to the client, one write per batch (an upstream read). Headers are
 * written when the first batch arrives — the pipeline's commit point has already held back the
 * content-less opening chunks (`policies/first-chunk.ts`), so the first batch holds real output
 * — and a stream that fails before it still gets a proper HTTP error; after that, failures
 * become an in-band error event.
 */
export async function sendStream(
  res: ServerResponse,
  batches: AsyncIterable<ChunkBatch>,
  ctx: CallContext,
  options: StreamOptions,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  const format = options.format ?? openaiStreamFormat;
  let cutBy: GatewayError | null = null;
  const untrack = options.track((error) => {
    cutBy = error;
    if (res.headersSent) endWith(res, format.error(error));
    else writeRawError(res, error, options.headers, format.errorBody(error));
    options.abort(error);
  });
  try {
    let next: IteratorResult<ChunkBatch>;
    try {
      next = await iterator.next();
    } catch (err) {
      if (!cutBy && !res.destroyed) {
        const error = toGatewayError(err);
        writeRawError(res, error, options.headers, format.errorBody(error));
      }
      return;
    }
    if (cutBy || res.destroyed) return;
    res.writeHead(200, { ...options.headers, ...ctx.responseHeaders, ...SSE_HEADERS });
    // Usage the client did not ask for is already gone (policies/client-usage.ts).
    while (!next.done) {
      const frames = format.batch(next.value);
      if (frames !== '') await writeFrame(res, frames);
      if (res.destroyed || cutBy) break;
      try {
        next = await iterator.next();
      } catch (err) {
        if (!cutBy) endWith(res, format.error(streamError(err)));
        return;
      }
    }
    if (!cutBy && !res.destroyed) endWith(res, format.done());
  } finally {
    untrack();
    // Stops the upstream when we leave early (client gone, cut): settles the call as aborted/truncated.
    void iterator.return?.().catch(() => undefined);
  }
}

/** What the client sees when the upstream fails mid-stream: the cause, typed as a stream interruption. */
function streamError(err: unknown): GatewayError {
  const error = toGatewayError(err);
  if (error.code === 'shutting_down' || error.code === 'budget_exceeded') return error;
  return new GatewayError('stream_interrupted', `The upstream stream failed after it started: ${error.message}`, {
    ...(error.upstreamStatus !== undefined ? { upstreamStatus: error.upstreamStatus } : {}),
    wireCode: error.code === 'upstream_timeout' ? 'stream_stalled' : 'stream_interrupted',
  });
}
