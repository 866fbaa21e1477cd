import type { ChatChunk, ChunkChoice, FinishReason, Usage } from '../../core/types.js';
import { toFinishReason } from './map-stop-reason.js';
import { toUsage } from './map-usage.js';
import type { AnthropicDeltaUsage, AnthropicStreamEvent, AnthropicToolUseBlock } from './wire.js';

/**
 * Turns Anthropic stream events into canonical chunks, one event at a time, as OpenAI would
 * have streamed the same answer:
 *
 * - `message_start` → the role chunk (`delta: {role: 'assistant', content: ''}`);
 * - a `tool_use` block's start → a tool-call chunk with its id and name (tool calls are numbered
 *   0, 1, … in order, whatever their content-block index); `input_json_delta` → argument
 *   chunks; a tool block that streamed no arguments gets `{}` when it stops;
 * - `text_delta` → content chunks;
 * - `message_delta` → nothing yet: its `stop_reason` and usage are kept; usage figures are
 *   cumulative, so the last one wins (never a sum), on top of `message_start`'s;
 * - `message_stop` → the finish chunk, then the usage chunk (`choices: []`), always: the
 *   gateway strips it when the client did not ask;
 * - `ping` and untranslated deltas (thinking, signatures, citations) → nothing.
 *
 * `error` events are the caller's to raise (it knows the provider); they yield nothing here.
 *
 * @example const decoder = createStreamDecoder(1767225600);
 *   for (const event of events) for (const chunk of decoder.push(event)) yield chunk;
 *   if (!decoder.done) throw new Error('stream ended before message_stop');
 */
export interface StreamDecoder {
  push(event: AnthropicStreamEvent): ChatChunk[];
  /** True once `message_stop` arrived: a stream that ends before it was cut. */
  readonly done: boolean;
}

type Block = { kind: 'text' | 'other' } | { kind: 'tool'; index: number; sentArguments: boolean };

export function createStreamDecoder(created: number): StreamDecoder {
  let id = '';
  let model = '';
  let usage: AnthropicDeltaUsage = { output_tokens: 0 };
  let finish: FinishReason = 'stop';
  let tools = 0;
  let done = false;
  const blocks = new Map<number, Block>();

  const chunk = (choices: ChunkChoice[], final: Usage | null = null): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices,
    usage: final,
  });
  const delta = (d: ChunkChoice['delta'], finishReason: FinishReason | null = null): ChatChunk =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
  const toolArguments = (index: number, args: string): ChatChunk =>
    delta({ tool_calls: [{ index, function: { arguments: args } }] });

  return {
    get done() {
      return done;
    },
    push(event) {
      switch (event.type) {
        case 'message_start':
          id = event.message.id;
          model = event.message.model;
          usage = { ...event.message.usage };
          return [delta({ role: 'assistant', content: '' })];
        case 'content_block_start': {
          const block = event.content_block;
          if (block.type === 'tool_use') {
            const use = block as AnthropicToolUseBlock;
            const index = tools++;
            blocks.set(event.index, { kind: 'tool', index, sentArguments: false });
            const head = { index, id: use.id, type: 'function' as const, function: { name: use.name, arguments: '' } };
            return [delta({ tool_calls: [head] })];
          }
          blocks.set(event.index, { kind: block.type === 'text' ? 'text' : 'other' });
          const initial = block.type === 'text' ? (block as { text?: string }).text : undefined;
          return initial ? [delta({ content: initial })] : [];
        }
        case 'content_block_delta': {
          const block = blocks.get(event.index);
          const d = event.delta;
          if (d.type === 'text_delta' && typeof d.text === 'string' && d.text !== '')
            return [delta({ content: d.text })];
          if (d.type === 'input_json_delta' && block?.kind === 'tool' && typeof d.partial_json === 'string') {
            if (d.partial_json === '') return [];
            block.sentArguments = true;
            return [toolArguments(block.index, d.partial_json)];
          }
          return [];
        }
        case 'content_block_stop': {
          const block = blocks.get(event.index);
          // A tool without arguments streams `partial_json: ''`; OpenAI clients parse the arguments, so send `{}`.
          if (block?.kind === 'tool' && !block.sentArguments) return [toolArguments(block.index, '{}')];
          return [];
        }
        case 'message_delta':
          if (event.delta.stop_reason) finish = toFinishReason(event.delta.stop_reason);
          usage = mergeUsage(usage, event.usage);
          return [];
        case 'message_stop':
          done = true;
          return [delta({}, finish), chunk([], toUsage(usage))];
        default:
          return [];
      }
    },
  };
}

/** Cumulative figures: a figure present in the later event replaces the earlier one. */
function mergeUsage(before: AnthropicDeltaUsage, after: AnthropicDeltaUsage): AnthropicDeltaUsage {
  const merged: AnthropicDeltaUsage = { ...before };
  for (const key of [
    'input_tokens',
    'output_tokens',
    'cache_creation_input_tokens',
    'cache_read_input_tokens',
  ] as const) {
    const value = after[key];
    if (typeof value === 'number') merged[key] = value;
  }
  return merged;
}
