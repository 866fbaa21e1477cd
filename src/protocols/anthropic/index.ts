/**
 * The Anthropic Messages API, translated in one place: canonical (OpenAI) ⇄ Anthropic for
 * requests, responses, stream events and errors. The `anthropic` provider uses the `convert-*`
 * direction (canonical → Anthropic → canonical); the inbound `/v1/messages` route and the mock
 * use `parse-request` and the `render-*` direction (Anthropic → canonical → Anthropic).
 */
export { toAnthropicRequest, type ConvertRequestOptions } from './convert-request.js';
export { fromAnthropicMessage } from './convert-response.js';
export { createStreamDecoder, type StreamDecoder } from './convert-stream.js';
export { fromAnthropicRequest } from './parse-request.js';
export { toAnthropicMessage } from './render-response.js';
export { createStreamEncoder, type StreamEncoder } from './render-stream.js';
export { errorTypeForStatus, statusForErrorType, toAnthropicError } from './map-error.js';
export { toFinishReason, toStopReason } from './map-stop-reason.js';
export { fromUsage, toUsage } from './map-usage.js';
export type * from './wire.js';
