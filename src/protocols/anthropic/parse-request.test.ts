import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { fromAnthropicRequest } from './parse-request.js';

const valid = { model: 'fast', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

/** Asserts a 400 invalid_request whose param and message name the field. */
function rejects(body: unknown, param: string | null): void {
  assert.throws(
    () => fromAnthropicRequest(body),
    (err: unknown) => {
      assert.ok(err instanceof GatewayError, String(err));
      assert.equal(err.code, 'invalid_request');
      assert.equal(err.status, 400);
      assert.equal(err.param, param);
      if (param) assert.ok(err.message.includes(param), err.message);
      return true;
    },
  );
}

describe('fromAnthropicRequest: validation names the field', () => {
  it('requires what Anthropic requires', () => {
    rejects({ ...valid, max_tokens: undefined }, 'max_tokens');
    rejects({ ...valid, model: '' }, 'model');
    rejects({ ...valid, messages: [] }, 'messages');
    rejects([], null);
  });

  it('checks roles, numbers and block shapes', () => {
    rejects({ ...valid, max_tokens: 0 }, 'max_tokens');
    rejects({ ...valid, temperature: 1.5 }, 'temperature');
    rejects({ ...valid, messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role');
    rejects({ ...valid, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text');
    rejects(
      { ...valid, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] },
      'messages[0].content[0].source.type',
    );
    rejects({ ...valid, tools: [{ name: 'f' }] }, 'tools[0].input_schema');
    rejects({ ...valid, tool_choice: { type: 'tool' } }, 'tool_choice.name');
  });

  it('refuses blocks it cannot translate, naming them', () => {
    rejects(
      { ...valid, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }] },
      'messages[0].content[0].type',
    );
    rejects(
      {
        ...valid,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }],
              },
            ],
          },
        ],
      },
      'messages[0].content[0].content[0].type',
    );
  });
});

describe('fromAnthropicRequest: translation', () => {
  it('drops thinking blocks and unknown fields, keeps the tool_choice any', () => {
    const out = fromAnthropicRequest({
      ...valid,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      top_k: 5,
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'tool_use', id: 't1', name: 'f', input: {} },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'done', is_error: false }] },
      ],
    });
    assert.deepEqual(out, {
      model: 'fast',
      max_tokens: 64,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 't1', content: 'done' },
      ],
    });
  });

  it('a system turn in the conversation becomes a system message in place', () => {
    const out = fromAnthropicRequest({
      ...valid,
      messages: [
        { role: 'user', content: 'a' },
        { role: 'system', content: 'Now answer in French.' },
        { role: 'user', content: 'b' },
      ],
    });
    assert.deepEqual(
      out.messages.map((m) => m.role),
      ['user', 'system', 'user'],
    );
  });
});
