import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayError } from '../core/errors.js';
import type { ChatResponse, EmbeddingResponse } from '../core/types.js';
import { openaiStreamFormat, type StreamFormat } from './sse.js';

/**
 * How a route speaks: the bodies it answers, its errors, its streams. The pipeline only knows
 * the canonical shapes; each route renders them in its client's dialect at the edge.
 */
export interface WireFormat {
  /** The JSON body of an error answer (status and retry headers come from the error itself). */
  errorBody(error: GatewayError, requestId: string): unknown;
  /** The body of a whole (non-stream) answer. */
  body(response: ChatResponse | EmbeddingResponse): unknown;
  /** Whether an answer the upstream sent in this dialect is relayed as its bytes (`GatewayResult.json`). */
  readonly relaysJson: boolean;
  /** A fresh format for one stream. */
  stream(requestId: string): StreamFormat;
  /** Headers on every answer of the route, errors included. */
  headers(requestId: string): Record<string, string>;
  /** The request headers as the pipeline sees them (policies read credentials and attribution there). */
  requestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders;
}

/** OpenAI's dialect, the canonical one: everything goes out as it is. */
export const openaiWire: WireFormat = {
  errorBody: (error) => error.toJSON(),
  body: (response) => response,
  relaysJson: true,
  stream: () => openaiStreamFormat,
  headers: () => ({}),
  requestHeaders: (headers) => headers,
};
