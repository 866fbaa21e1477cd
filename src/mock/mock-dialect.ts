import type { ChatRequest } from '../core/types.js';
import { toChatChunks, toChatResponse, type MockReply } from './mock-engine.js';
import { injectedErrorBody, invalidRequestBody, type OpenAIErrorBody } from './mock-error-body.js';
import { validateChatRequest, type MockInvalid } from './mock-validate.js';

/**
 * What the mock server sends for a chat route, in one wire format: its error bodies, how it
 * reads a request, and how it renders the engine's reply whole or as stream frames. The server
 * runs the same plan (latency, faults) whatever the dialect; only the bytes differ.
 */
export interface MockDialect {
  /** The body of a 400/404/405/413 the mock answers itself. */
  invalid(message: string, param: string | null, code?: string | null): unknown;
  /** The body of an injected error with this status. */
  injected(status: number): unknown;
  /** Validates a chat request and reads it as the canonical one the engine takes. */
  read(body: unknown): { request: ChatRequest; includeUsage: boolean } | { problem: MockInvalid };
  response(reply: MockReply): unknown;
  /** The stream as frames: one string per canonical chunk (0 is the role chunk), then what ends it. */
  frames(reply: MockReply, includeUsage: boolean): string[];
  /** The in-band event of an injected stream error. */
  errorEvent(status: number): string;
}

export const openaiDialect: MockDialect = {
  invalid(message, param, code = null): OpenAIErrorBody {
    const body = invalidRequestBody(message, param);
    body.error.code = code;
    return body;
  },
  injected: (status) => injectedErrorBody(status),
  read(body) {
    const problem = validateChatRequest(body);
    if (problem) return { problem };
    const request = body as ChatRequest;
    return { request, includeUsage: request.stream_options?.include_usage === true };
  },
  response: (reply) => toChatResponse(reply),
  frames(reply, includeUsage) {
    const frames = toChatChunks(reply, includeUsage).map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`);
    frames.push('data: [DONE]\n\n');
    return frames;
  },
  errorEvent: (status) => `data: ${JSON.stringify(injectedErrorBody(status))}\n\n`,
};
