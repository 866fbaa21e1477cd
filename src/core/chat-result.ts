import { GatewayError } from './errors.js';
import { objectTextAt } from './json-scan.js';
import type { GatewayResult } from './pipeline.js';
import type { ChatResponse, Usage } from './types.js';

export type ChatResult = Extract<GatewayResult, { kind: 'chat' }>;

/**
 * A whole chat answer kept as the upstream's JSON text (`json`), parsed only when a stage or the
 * caller reads `response`: an OpenAI-wire client gets the upstream's bytes, relayed as they came,
 * and the settle step reads only the `usage` object (`chatUsage`). `json` must have passed
 * `isJsonObjectText` (the adapter's check); damage inside the braces surfaces as
 * `upstream_error` where it is parsed.
 *
 * @example const result = relayedChat(await reply.text()); result.json; // the bytes; result.response parses
 */
export function relayedChat(json: string, provider = 'upstream'): ChatResult {
  let parsed: ChatResponse | undefined;
  return {
    kind: 'chat',
    json,
    get response(): ChatResponse {
      if (parsed === undefined) {
        try {
          parsed = JSON.parse(json) as ChatResponse;
        } catch {
          throw new GatewayError('upstream_error', `${provider}: upstream sent malformed JSON (${json.length} bytes)`, {
            upstreamStatus: 200,
          });
        }
      }
      return parsed;
    },
  };
}

/**
 * The usage a chat answer reports, or null: from its `usage` object alone when the answer is
 * relayed text (the rest stays unparsed), else from the parsed response.
 */
export function chatUsage(result: ChatResult): Usage | null {
  if (result.json === undefined) return result.response.usage ?? null;
  const text = objectTextAt(result.json, '"usage"');
  if (text === null) return null;
  try {
    return JSON.parse(text) as Usage;
  } catch {
    return null;
  }
}
