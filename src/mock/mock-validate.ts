import type { ChatRequest, EmbeddingRequest } from '../core/types.js';

/**
 * The checks the mock makes before answering, with OpenAI's kind of message and `param`. It is
 * not the gateway's validation (that is core/validate-request.ts); it is what an upstream would
 * refuse, so the mock can stand in for one in tests of the 400 path.
 */
export interface MockInvalid {
  message: string;
  param: string | null;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const MAX_EMBEDDING_DIMENSIONS = 8192;

/**
 * Returns the first problem with a chat request, or null when the mock can answer it.
 *
 * @example validateChatRequest({ model: 'm', messages: [] }) // → { message: "'messages' must …", param: 'messages' }
 */
export function validateChatRequest(body: unknown): MockInvalid | null {
  if (!isRecord(body)) return invalid('The request body must be a JSON object.', null);
  if (typeof body.model !== 'string' || body.model === '')
    return invalid('You must provide a model parameter.', 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return invalid("'messages' must be a non-empty array of messages.", 'messages');
  }
  for (const [i, message] of (body.messages as unknown[]).entries()) {
    if (!isRecord(message)) return invalid(`Invalid type for 'messages[${i}]': expected an object.`, `messages[${i}]`);
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
      return invalid(`Invalid value for 'messages[${i}].role': '${String(message.role)}'.`, `messages[${i}].role`);
    }
    const content = message.content;
    if (content !== null && content !== undefined && typeof content !== 'string' && !Array.isArray(content)) {
      return invalid(
        `Invalid type for 'messages[${i}].content': expected a string or an array.`,
        `messages[${i}].content`,
      );
    }
  }
  for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && !(Number.isInteger(value) && (value as number) >= 1)) {
      return invalid(`Invalid '${field}': expected an integer of at least 1.`, field);
    }
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    return invalid("Invalid type for 'stream': expected a boolean.", 'stream');
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    return invalid('The mock answers one choice only (n = 1).', 'n');
  }
  return validateTools(body as ChatRequest);
}

function validateTools(body: ChatRequest): MockInvalid | null {
  const tools: unknown = body.tools;
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) return invalid("Invalid type for 'tools': expected an array.", 'tools');
  for (const [i, tool] of (tools as unknown[]).entries()) {
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(fn) || typeof fn.name !== 'string' || fn.name === '') {
      return invalid(`Missing required parameter: 'tools[${i}].function.name'.`, `tools[${i}].function.name`);
    }
  }
  const choice: unknown = body.tool_choice;
  if (isRecord(choice)) {
    const name = isRecord(choice.function) ? choice.function.name : undefined;
    if (!body.tools?.some((t) => t.function.name === name)) {
      return invalid(`Invalid 'tool_choice': no tool named '${String(name)}' in 'tools'.`, 'tool_choice');
    }
  }
  return null;
}

/** Returns the first problem with an embeddings request, or null. */
export function validateEmbeddingRequest(body: unknown): MockInvalid | null {
  if (!isRecord(body)) return invalid('The request body must be a JSON object.', null);
  if (typeof body.model !== 'string' || body.model === '')
    return invalid('You must provide a model parameter.', 'model');
  if (!isValidInput(body.input)) {
    return invalid("'input' must be a non-empty string, array of strings, or array of token arrays.", 'input');
  }
  const dims = body.dimensions;
  if (
    dims !== undefined &&
    !(Number.isInteger(dims) && (dims as number) >= 1 && (dims as number) <= MAX_EMBEDDING_DIMENSIONS)
  ) {
    return invalid(`Invalid 'dimensions': expected an integer from 1 to ${MAX_EMBEDDING_DIMENSIONS}.`, 'dimensions');
  }
  const format = body.encoding_format;
  if (format !== undefined && format !== 'float' && format !== 'base64') {
    return invalid("Invalid 'encoding_format': expected 'float' or 'base64'.", 'encoding_format');
  }
  return null;
}

function isValidInput(input: unknown): input is EmbeddingRequest['input'] {
  if (typeof input === 'string') return input.length > 0;
  if (!Array.isArray(input) || input.length === 0) return false;
  const items = input as unknown[];
  if (items.every((x) => Number.isInteger(x))) return true;
  if (items.every((x) => typeof x === 'string' && x.length > 0)) return true;
  return items.every((x) => Array.isArray(x) && x.length > 0 && (x as unknown[]).every((t) => Number.isInteger(t)));
}

const invalid = (message: string, param: string | null): MockInvalid => ({ message, param });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
