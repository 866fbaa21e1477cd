import { GatewayError } from '../core/errors.js';
import { errorTypeForStatus } from '../protocols/anthropic/map-error.js';
import { fromAnthropicRequest } from '../protocols/anthropic/parse-request.js';
import { toAnthropicMessage } from '../protocols/anthropic/render-response.js';
import { createStreamEncoder } from '../protocols/anthropic/render-stream.js';
import type { AnthropicErrorBody, AnthropicStreamEvent } from '../protocols/anthropic/wire.js';
import type { MockDialect } from './mock-dialect.js';
import { toChatChunks, toChatResponse, type MockReply } from './mock-engine.js';
import { injectedErrorBody } from './mock-error-body.js';

/** Anthropic's wording for its own statuses; others take the OpenAI mock's message. */
const MESSAGES: Record<number, string> = {
  429: 'Number of request tokens has exceeded your per-minute rate limit.',
  500: 'Internal server error.',
  529: 'Overloaded.',
};

/**
 * The mock speaking the Anthropic Messages API on `POST /v1/messages`: requests read with the
 * gateway's own translation (`protocols/anthropic`), replies rendered with it, errors in
 * Anthropic's shape with its type for the status (529 → `overloaded_error`), and an injected
 * stream error as `event: error`.
 *
 * @example curl -s localhost:9100/v1/messages -H 'x-mock-error-status: 529' -H 'content-type: application/json' \
 *   -d '{"model":"claude-x","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}'
 *   // → 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded. (injected by the tollgate mock)"}}
 */
export const anthropicDialect: MockDialect = {
  invalid: (message) => errorBody(400, message),
  injected(status) {
    const message = MESSAGES[status] ?? injectedErrorBody(status).error.message.replace(/ \(injected.*$/, '');
    return errorBody(status, `${message} (injected by the tollgate mock)`);
  },
  read(body) {
    try {
      return { request: fromAnthropicRequest(body), includeUsage: true };
    } catch (err) {
      if (err instanceof GatewayError) return { problem: { message: err.message, param: err.param } };
      throw err;
    }
  },
  response: (reply) => toAnthropicMessage({ ...toChatResponse(reply), id: messageId(reply) }),
  frames(reply) {
    const encoder = createStreamEncoder();
    const frames = toChatChunks(reply, true).map((chunk) => render(encoder.push({ ...chunk, id: messageId(reply) })));
    frames.push(render(encoder.end()));
    return frames;
  },
  errorEvent(status) {
    const body = anthropicDialect.injected(status) as AnthropicErrorBody;
    return `event: error\ndata: ${JSON.stringify({ type: 'error', error: body.error })}\n\n`;
  },
};

function errorBody(status: number, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: errorTypeForStatus(status), message } };
}

/** Anthropic ids read `msg_…`; the engine's are OpenAI's `chatcmpl-…`. */
const messageId = (reply: MockReply): string => reply.id.replace(/^chatcmpl-/, 'msg_');

const render = (events: AnthropicStreamEvent[]): string =>
  events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
