import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../core/errors.js';
import type { ChunkBatch } from '../core/chunk-batch.js';

/** The one module that frames server-sent events. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

const DONE = 'data: [DONE]\n\n';

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** A named event (`event: <name>`), as Anthropic streams them: its SDK dispatches on the name. */
export function sseEvent(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/**
 * How one wire format streams: the frames for a batch of chunks, what ends a completed stream, the
 * in-band event that ends a failed one, and the JSON body of an error sent before the first
 * byte. One instance per stream (formats may keep state, as Anthropic's block numbering does).
 */
export interface StreamFormat {
  /** Frames for one batch of canonical chunks; '' when it has nothing to send. */
  batch(batch: ChunkBatch): string;
  done(): string;
  error(error: GatewayError): string;
  errorBody(error: GatewayError): unknown;
}

/**
 * OpenAI's: `data: {chunk}` per chunk (the upstream's own text where no stage changed it),
 * `data: [DONE]`, and `data: {"error":…}` when it fails.
 */
export const openaiStreamFormat: StreamFormat = {
  batch: (batch) => batch.toSse(),
  done: () => DONE,
  error: (error) => sseData(error.toJSON()),
  errorBody: (error) => error.toJSON(),
};

/** Writes one frame; waits for `drain` when the client reads slower than the upstream writes. */
export async function writeFrame(res: ServerResponse, frame: string): Promise<void> {
  if (res.write(frame)) return;
  if (res.destroyed) return;
  await drainedOrClosed(res);
}

/**
 * Resolves on `drain`, `close` or `error`, whichever comes first, and removes all three
 * listeners: a race of `once()` promises leaves the losers registered, one more per wait, until a
 * long stream to a slow reader trips MaxListenersExceededWarning.
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      res.off('drain', settle);
      res.off('close', settle);
      res.off('error', settle);
      resolve();
    };
    res.on('drain', settle);
    res.on('close', settle);
    res.on('error', settle);
  });
}

/** Ends an open stream with its last frame (the format's `done()` or `error()`). */
export function endWith(res: ServerResponse, frame: string): void {
  if (res.writableEnded || res.destroyed) return;
  res.end(frame);
}
