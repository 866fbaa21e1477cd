import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { GatewayError } from '../core/errors.js';
import type { ChatChunk } from '../core/types.js';

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

/** Writes one frame; waits for `drain` when the client reads slower than the upstream writes. */
export async function writeFrame(res: ServerResponse, frame: string): Promise<void> {
  if (res.write(frame)) return;
  if (res.destroyed) return;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
}

export async function writeChunk(res: ServerResponse, chunk: ChatChunk): Promise<void> {
  await writeFrame(res, sseData(chunk));
}

export function endWithDone(res: ServerResponse): void {
  if (!res.writableEnded) res.end(DONE);
}

/**
 * Ends a stream that failed after its first byte: a typed in-band error event (the official
 * SDKs raise on it), never a silent clean end.
 */
export function endWithError(res: ServerResponse, error: GatewayError): void {
  if (res.writableEnded || res.destroyed) return;
  res.end(sseData(error.toJSON()));
}
