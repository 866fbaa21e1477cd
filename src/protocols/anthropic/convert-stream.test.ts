import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CREATED,
  fixtureJson,
  fixtureNames,
  fixtureText,
  parseSseEvents,
} from '../../../test/helpers/anthropic-fixtures.js';
import type { ChatChunk } from '../../core/types.js';
import { createStreamDecoder } from './convert-stream.js';
import { createStreamEncoder } from './render-stream.js';
import type { AnthropicStreamEvent } from './wire.js';

function decode(events: AnthropicStreamEvent[]): { chunks: ChatChunk[]; done: boolean } {
  const decoder = createStreamDecoder(CREATED);
  const chunks = events.flatMap((event) => decoder.push(event));
  return { chunks, done: decoder.done };
}

function encode(chunks: ChatChunk[]): AnthropicStreamEvent[] {
  const encoder = createStreamEncoder();
  return [...chunks.flatMap((chunk) => encoder.push(structuredClone(chunk))), ...encoder.end()];
}

describe('Anthropic stream events → canonical chunks (fixtures)', () => {
  for (const name of fixtureNames('streams', '.chunks.json')) {
    it(name, () => {
      const { chunks, done } = decode(parseSseEvents(fixtureText(`streams/${name}.sse`)));
      assert.deepEqual(chunks, fixtureJson<ChatChunk[]>(`streams/${name}.chunks.json`));
      assert.equal(done, true);
    });
  }

  it('the event types seen across the fixtures are every type Anthropic streams', () => {
    const seen = new Set<string>();
    const deltas = new Set<string>();
    for (const name of fixtureNames('streams', '.sse')) {
      for (const event of parseSseEvents(fixtureText(`streams/${name}.sse`))) {
        seen.add(event.type);
        if (event.type === 'content_block_delta') deltas.add(event.delta.type);
      }
    }
    const types = ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop'];
    assert.deepEqual([...seen].sort(), [...types, 'message_delta', 'message_stop', 'ping', 'error'].sort());
    assert.deepEqual([...deltas].sort(), ['input_json_delta', 'signature_delta', 'text_delta', 'thinking_delta']);
  });

  it('usage is cumulative: the last message_delta wins, never a sum', () => {
    const { chunks } = decode(parseSseEvents(fixtureText('streams/cumulative-usage.sse')));
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 25);
  });

  it('is not done when the transcript stops before message_stop', () => {
    const { chunks, done } = decode(parseSseEvents(fixtureText('streams/cut-before-message-stop.sse')));
    assert.equal(done, false);
    assert.deepEqual(
      chunks.map((c) => c.choices[0]?.delta.content),
      ['', 'Hel'],
    );
  });
});

describe('canonical chunks → Anthropic stream events', () => {
  for (const name of ['text', 'tool-use']) {
    it(`${name}: renders the recorded transcript`, () => {
      const events = encode(fixtureJson<ChatChunk[]>(`streams/${name}.chunks.json`));
      assert.deepEqual(events, parseSseEvents(fixtureText(`streams/${name}.rendered.sse`)));
    });
  }

  for (const name of fixtureNames('streams', '.chunks.json')) {
    it(`${name}: what the gateway renders decodes back to the same chunks`, () => {
      const chunks = fixtureJson<ChatChunk[]>(`streams/${name}.chunks.json`);
      assert.deepEqual(decode(encode(chunks)).chunks, chunks);
    });
  }

  it('numbers blocks in order when OpenAI streams text, then two tool calls', () => {
    const chunk = (delta: ChatChunk['choices'][number]['delta']): ChatChunk => ({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: CREATED,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta, finish_reason: null }],
    });
    const events = encode([
      chunk({ role: 'assistant', content: null }),
      chunk({ content: 'Two calls.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } }] }),
    ]);
    const starts = events.filter((e) => e.type === 'content_block_start').map((e) => [e.index, e.content_block.type]);
    assert.deepEqual(starts, [
      [0, 'text'],
      [1, 'tool_use'],
      [2, 'tool_use'],
    ]);
    const stops = events.filter((e) => e.type === 'content_block_stop').map((e) => e.index);
    assert.deepEqual(stops, [0, 1, 2]);
    const last = events.at(-2);
    assert.ok(last?.type === 'message_delta');
    assert.equal(last.delta.stop_reason, 'end_turn');
    assert.deepEqual(events.at(-1), { type: 'message_stop' });
  });
});
