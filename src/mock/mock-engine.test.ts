import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode, encodeChat } from 'gpt-tokenizer/model/gpt-4o';
import type { ChatRequest, ToolDefinition } from '../core/types.js';
import { generateChatReply, toChatChunks, toChatResponse } from './mock-engine.js';
import { VOCABULARY } from './mock-text.js';

const options = { seed: 42, completionTokens: 24, created: 1_767_225_600 };
const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is the capital of France, please?' },
  ],
  ...extra,
});
const weather: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
        hourly: { type: 'boolean' },
      },
    },
  },
};

describe('mock engine: chat', () => {
  it('gives the same bytes for the same input, and other words for another seed', async () => {
    const a = JSON.stringify(toChatResponse(await generateChatReply(request(), options)));
    const b = JSON.stringify(toChatResponse(await generateChatReply(request(), options)));
    const other = toChatResponse(await generateChatReply(request(), { ...options, seed: 7 }));
    assert.equal(a, b);
    assert.notEqual(other.choices[0]?.message.content, JSON.parse(a).choices[0].message.content);
  });

  it('echoes the start of the last user message and ends with a period', async () => {
    const reply = await generateChatReply(request(), options);
    assert.match(reply.content ?? '', /^Mock reply to: What is the capital of\. .*\.$/);
    assert.equal(reply.finishReason, 'stop');
  });

  it('counts prompt tokens with encodeChat and completion tokens exactly', async () => {
    for (const completionTokens of [1, 2, 3, 7, 24, 100, 500]) {
      const req = request();
      const reply = await generateChatReply(req, { ...options, completionTokens });
      const expectedPrompt = encodeChat(req.messages.map((m) => ({ role: m.role, content: m.content as string })));
      assert.equal(reply.usage.prompt_tokens, expectedPrompt.length);
      assert.equal(reply.usage.completion_tokens, encode(reply.content ?? '').length);
      assert.equal(reply.usage.completion_tokens, completionTokens);
      assert.equal(reply.usage.total_tokens, reply.usage.prompt_tokens + reply.usage.completion_tokens);
    }
  });

  it('keeps every vocabulary word a single token, lower-case and capitalised', () => {
    for (const word of VOCABULARY) {
      const cap = word.charAt(0).toUpperCase() + word.slice(1);
      assert.equal(encode(` ${word}`).length, 1, word);
      assert.equal(encode(` ${cap}`).length, 1, cap);
      assert.equal(encode(cap).length, 1, cap);
    }
  });

  it('stops at max_tokens with finish_reason length, on a prefix of the full reply', async () => {
    const full = await generateChatReply(request(), options);
    const cut = await generateChatReply(request({ max_tokens: 9 }), options);
    assert.equal(cut.finishReason, 'length');
    assert.equal(cut.usage.completion_tokens, 9);
    assert.ok(full.content?.startsWith(cut.content ?? '-'));
    const newer = await generateChatReply(request({ max_tokens: 100, max_completion_tokens: 5 }), options);
    assert.equal(newer.usage.completion_tokens, 5);
    const roomy = await generateChatReply(request({ max_tokens: 24 }), options);
    assert.equal(roomy.finishReason, 'stop');
  });

  it('counts content parts and special-token text without throwing', async () => {
    const req = request({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look <|endoftext|>' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
      ],
    });
    const reply = await generateChatReply(req, options);
    const expected = encodeChat([{ role: 'user', content: 'look <|endoftext|>' }], undefined, {
      disallowedSpecial: new Set(),
    });
    assert.equal(reply.usage.prompt_tokens, expected.length);
  });
});

describe('mock engine: streams', () => {
  it('streams pieces whose concatenation is the non-stream content', async () => {
    const reply = await generateChatReply(request(), options);
    const chunks = toChatChunks(reply, false);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, toChatResponse(reply).choices[0]?.message.content);
    assert.ok(chunks.slice(1, -1).every((c) => (c.choices[0]?.delta.content ?? '').length <= 21));
  });

  it('sends role chunk, content chunks, then an empty finish delta; no usage key without include_usage', async () => {
    const chunks = toChatChunks(await generateChatReply(request(), options), false);
    assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
    assert.deepEqual(chunks.at(-1)?.choices[0], { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    assert.ok(chunks.every((c) => !('usage' in c)));
    assert.ok(
      chunks.every((c) => c.id === chunks[0]?.id && c.created === options.created && c.model === 'gpt-4o-mini'),
    );
  });

  it('with include_usage: usage null on every chunk, then a choices-less usage chunk', async () => {
    const reply = await generateChatReply(request(), options);
    const chunks = toChatChunks(reply, true);
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.deepEqual(last?.usage, reply.usage);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1));
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  });
});

describe('mock engine: tools', () => {
  it('calls a tool on tool_choice required, with arguments that fit the schema', async () => {
    const reply = await generateChatReply(request({ tools: [weather], tool_choice: 'required' }), options);
    const response = toChatResponse(reply);
    const call = response.choices[0]?.message.tool_calls?.[0];
    assert.equal(response.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(response.choices[0]?.message.content, null);
    assert.equal(call?.function.name, 'get_weather');
    const args = JSON.parse(call?.function.arguments ?? '') as Record<string, unknown>;
    assert.ok(['celsius', 'fahrenheit'].includes(args.unit as string));
    assert.ok(Number.isInteger(args.days) && (args.days as number) >= 1 && (args.days as number) <= 7);
    assert.equal(typeof args.city, 'string');
    assert.equal(typeof args.hourly, 'boolean');
    assert.equal(
      reply.usage.completion_tokens,
      encode('get_weather').length + encode(call?.function.arguments ?? '').length,
    );
  });

  it('calls a named tool, or one the user mentions under auto; answers text after a tool result', async () => {
    const other: ToolDefinition = { type: 'function', function: { name: 'lookup' } };
    const named = await generateChatReply(
      request({ tools: [weather, other], tool_choice: { type: 'function', function: { name: 'lookup' } } }),
      options,
    );
    assert.equal(named.toolCall?.function.name, 'lookup');
    assert.equal(named.toolCall?.function.arguments, '{}');
    const mention = request({
      tools: [weather],
      messages: [{ role: 'user', content: 'Please get weather for Paris' }],
    });
    assert.equal((await generateChatReply(mention, options)).toolCall?.function.name, 'get_weather');
    assert.equal((await generateChatReply(request({ tools: [weather] }), options)).toolCall, null);
    const afterResult = request({
      tools: [weather],
      messages: [...mention.messages, { role: 'tool', tool_call_id: 'call_1', content: '{"temp":20}' }],
    });
    assert.equal((await generateChatReply(afterResult, options)).finishReason, 'stop');
  });

  it('streams the arguments in pieces that join to the whole', async () => {
    const reply = await generateChatReply(request({ tools: [weather], tool_choice: 'required' }), options);
    const chunks = toChatChunks(reply, false);
    const head = chunks[0]?.choices[0]?.delta;
    assert.equal(head?.role, 'assistant');
    assert.equal(head?.tool_calls?.[0]?.id, reply.toolCall?.id);
    const args = chunks.map((c) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '').join('');
    assert.equal(args, reply.toolCall?.function.arguments);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
  });
});
