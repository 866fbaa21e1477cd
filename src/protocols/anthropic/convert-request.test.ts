import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureJson, fixtureNames, type RequestFixture } from '../../../test/helpers/anthropic-fixtures.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest } from '../../core/types.js';
import { toAnthropicRequest } from './convert-request.js';
import { fromAnthropicRequest } from './parse-request.js';

const options = { defaultMaxTokens: 1024 };
const user = { role: 'user' as const, content: 'hi' };
const base: ChatRequest = { model: 'claude-x', messages: [user] };

describe('canonical request → Anthropic (fixtures)', () => {
  for (const name of fixtureNames('requests', '.json')) {
    const fixture = fixtureJson<RequestFixture>(`requests/${name}.json`);
    const canonical = fixture.canonical;
    if (!canonical) continue;
    it(`${name}: ${fixture.description}`, () => {
      assert.deepEqual(toAnthropicRequest(canonical, options), fixture.anthropic);
    });
  }
});

describe('Anthropic request → canonical (fixtures, the inbound direction)', () => {
  for (const name of fixtureNames('requests', '.json')) {
    const fixture = fixtureJson<RequestFixture>(`requests/${name}.json`);
    it(`${name}`, () => {
      assert.deepEqual(fromAnthropicRequest(fixture.anthropic), fixture.fromAnthropic ?? fixture.canonical);
    });
  }
});

describe('toAnthropicRequest', () => {
  it('maps every tool_choice, and parallel_tool_calls: false onto it', () => {
    const tools = [{ type: 'function' as const, function: { name: 'f' } }];
    const choice = (req: Partial<ChatRequest>) => toAnthropicRequest({ ...base, tools, ...req }, options).tool_choice;
    assert.deepEqual(choice({ tool_choice: 'auto' }), { type: 'auto' });
    assert.deepEqual(choice({ tool_choice: 'none' }), { type: 'none' });
    assert.deepEqual(choice({ tool_choice: 'required' }), { type: 'any' });
    assert.deepEqual(choice({ tool_choice: { type: 'function', function: { name: 'f' } } }), {
      type: 'tool',
      name: 'f',
    });
    assert.equal(choice({}), undefined);
    assert.deepEqual(choice({ parallel_tool_calls: false }), { type: 'auto', disable_parallel_tool_use: true });
    assert.deepEqual(choice({ tool_choice: 'required', parallel_tool_calls: false }), {
      type: 'any',
      disable_parallel_tool_use: true,
    });
    // A tool without parameters still needs an input schema.
    assert.deepEqual(toAnthropicRequest({ ...base, tools }, options).tools, [
      { name: 'f', input_schema: { type: 'object', properties: {} } },
    ]);
  });

  it('takes max_completion_tokens over max_tokens over the default; an array stop as is', () => {
    assert.equal(toAnthropicRequest({ ...base, max_tokens: 5, max_completion_tokens: 7 }, options).max_tokens, 7);
    assert.equal(toAnthropicRequest({ ...base, max_tokens: 5 }, options).max_tokens, 5);
    assert.equal(toAnthropicRequest(base, options).max_tokens, 1024);
    assert.deepEqual(toAnthropicRequest({ ...base, stop: ['a', 'b'] }, options).stop_sequences, ['a', 'b']);
    assert.equal(toAnthropicRequest({ ...base, stop: null }, options).stop_sequences, undefined);
  });

  it('drops what Anthropic has no word for, and passes top_k set by a deployment', () => {
    const out = toAnthropicRequest(
      { ...base, seed: 1, presence_penalty: 1, frequency_penalty: 1, logprobs: true, top_k: 40 },
      options,
    );
    assert.deepEqual(Object.keys(out).sort(), ['max_tokens', 'messages', 'model', 'top_k']);
  });

  it('merges consecutive turns of one role, and drops an empty assistant turn', () => {
    const out = toAnthropicRequest(
      {
        ...base,
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: [{ type: 'text', text: 'b' }] },
          { role: 'assistant', content: null },
          { role: 'user', content: 'c' },
        ],
      },
      options,
    );
    assert.deepEqual(out.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
          { type: 'text', text: 'c' },
        ],
      },
    ]);
  });

  it('an assistant tool call with empty arguments sends an empty input object', () => {
    const out = toAnthropicRequest(
      {
        ...base,
        messages: [
          user,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'now', arguments: '' } }],
          },
          { role: 'tool', tool_call_id: 't1', content: '12:00' },
        ],
      },
      options,
    );
    assert.deepEqual(out.messages.slice(1), [
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'now', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '12:00' }] },
    ]);
  });

  it('refuses what it cannot translate with a 400 naming the field', () => {
    const refuses = (req: Partial<ChatRequest>, param: string) =>
      assert.throws(
        () => toAnthropicRequest({ ...base, ...req }, options),
        (err: unknown) => err instanceof GatewayError && err.code === 'invalid_request' && err.param === param,
      );
    refuses({ n: 2 }, 'n');
    refuses({ response_format: { type: 'json_schema', json_schema: {} } }, 'response_format.type');
    refuses({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role');
    refuses(
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }] },
      'messages[0].content[0].type',
    );
    refuses(
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] },
      'messages[0].content[0].image_url.url',
    );
    refuses(
      {
        messages: [
          user,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      },
      'messages[1].tool_calls[0].function.arguments',
    );
  });
});
