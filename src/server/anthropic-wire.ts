import type { IncomingHttpHeaders } from 'node:http';
import type { ChatResponse } from '../core/types.js';
import { toAnthropicError } from '../protocols/anthropic/map-error.js';
import { toAnthropicMessage } from '../protocols/anthropic/render-response.js';
import { createStreamEncoder } from '../protocols/anthropic/render-stream.js';
import type { AnthropicStreamEvent } from '../protocols/anthropic/wire.js';
import { sseEvent, type StreamFormat } from './sse.js';
import type { WireFormat } from './wire-format.js';

const frames = (events: AnthropicStreamEvent[]): string => events.map((event) => sseEvent(event.type, event)).join('');

/**
 * The Anthropic Messages dialect of `POST /v1/messages`: a Message for a whole answer, named
 * events (`message_start` … `message_stop`) for a stream, Anthropic's error body for failures,
 * and `request-id` (which the SDK reports as `requestID`). A stream that fails after its first
 * byte ends with an `event: error`, never with `message_stop`.
 *
 * Anthropic clients send their key as `x-api-key` or as `Authorization: Bearer`; both reach the
 * pipeline as `authorization`, so credential checks read one header whatever the dialect.
 */
export const anthropicWire: WireFormat = {
  errorBody: (error, requestId) => toAnthropicError(error, requestId),
  body: (response) => toAnthropicMessage(response as ChatResponse),
  relaysJson: false,
  stream(requestId): StreamFormat {
    const encoder = createStreamEncoder();
    return {
      batch: (batch) => frames(batch.chunks().flatMap((chunk) => encoder.push(chunk))),
      done: () => frames(encoder.end()),
      error: (error) => sseEvent('error', toAnthropicError(error, requestId)),
      errorBody: (error) => toAnthropicError(error, requestId),
    };
  },
  headers: (requestId) => ({ 'request-id': requestId }),
  requestHeaders(headers): IncomingHttpHeaders {
    const key = headers['x-api-key'];
    if (headers.authorization || typeof key !== 'string' || key === '') return headers;
    return { ...headers, authorization: `Bearer ${key}` };
  },
};
