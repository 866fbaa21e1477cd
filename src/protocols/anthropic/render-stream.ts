import type { ChatChunk, FinishReason, Usage } from '../../core/types.js';
import { toStopReason } from './map-stop-reason.js';
import { fromUsage } from './map-usage.js';
import type { AnthropicStreamEvent } from './wire.js';

/**
 * Turns canonical chunks into Anthropic stream events, chunk by chunk, as Anthropic would have
 * streamed the same answer (the inverse of `createStreamDecoder`):
 *
 * - the first chunk → `message_start` (empty content, zero usage: see below);
 * - text → a text block (`content_block_start`, then `text_delta`s); the first block start is
 *   followed by a `ping`, as Anthropic sends one;
 * - a tool call's first delta (id, name) → a `tool_use` block; its arguments → `input_json_delta`s;
 * - a new block closes the open one (`content_block_stop`);
 * - the finish reason and the usage chunk are kept for `end()`, which closes the open block and
 *   sends `message_delta` (stop reason and the whole usage, cumulative as Anthropic's is) and
 *   `message_stop`.
 *
 * limitation: an OpenAI-wire upstream reports usage only at the end, so `message_start` says 0
 * input tokens and the `message_delta` carries the real figures (current SDKs, `finalMessage()`
 * included, take them from there; SDKs that read input tokens only from `message_start` see 0).
 *
 * @example const encoder = createStreamEncoder();
 *   for await (const chunk of chunks) for (const event of encoder.push(chunk)) send(event);
 *   for (const event of encoder.end()) send(event);
 */
export interface StreamEncoder {
  push(chunk: ChatChunk): AnthropicStreamEvent[];
  end(): AnthropicStreamEvent[];
}

export function createStreamEncoder(): StreamEncoder {
  let started = false;
  let id = 'msg_tollgate';
  let model = '';
  let nextBlock = 0;
  let open: { index: number; kind: 'text' | 'tool' } | null = null;
  let pinged = false;
  let finish: FinishReason | null = null;
  let usage: Usage | null = null;
  /** OpenAI tool-call index → Anthropic content-block index. */
  const toolBlocks = new Map<number, number>();

  const start = (out: AnthropicStreamEvent[]): void => {
    if (started) return;
    started = true;
    out.push({
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  };
  const close = (out: AnthropicStreamEvent[]): void => {
    if (open) out.push({ type: 'content_block_stop', index: open.index });
    open = null;
  };
  const openBlock = (out: AnthropicStreamEvent[], kind: 'text' | 'tool', block: AnthropicStreamEvent): number => {
    close(out);
    const index = nextBlock++;
    open = { index, kind };
    out.push({ ...block, index } as AnthropicStreamEvent);
    if (!pinged) out.push({ type: 'ping' });
    pinged = true;
    return index;
  };

  return {
    push(chunk) {
      const out: AnthropicStreamEvent[] = [];
      if (!started) {
        id = chunk.id || id;
        model = chunk.model;
        start(out);
      }
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) return out;
      const text = choice.delta.content;
      if (typeof text === 'string' && text !== '') {
        const index =
          open?.kind === 'text'
            ? open.index
            : openBlock(out, 'text', {
                type: 'content_block_start',
                index: 0,
                content_block: { type: 'text', text: '' },
              });
        out.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
      }
      for (const call of choice.delta.tool_calls ?? []) {
        let index = toolBlocks.get(call.index);
        if (index === undefined) {
          const block = {
            type: 'tool_use' as const,
            id: call.id ?? `toolu_${id}_${call.index}`,
            name: call.function?.name ?? '',
            input: {},
          };
          index = openBlock(out, 'tool', { type: 'content_block_start', index: 0, content_block: block });
          toolBlocks.set(call.index, index);
        }
        const args = call.function?.arguments;
        if (args)
          out.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
      }
      if (choice.finish_reason) finish = choice.finish_reason;
      return out;
    },
    end() {
      const out: AnthropicStreamEvent[] = [];
      start(out);
      close(out);
      const { input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens } = fromUsage(usage);
      out.push({
        type: 'message_delta',
        delta: { stop_reason: toStopReason(finish), stop_sequence: null },
        usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens },
      });
      out.push({ type: 'message_stop' });
      return out;
    },
  };
}
