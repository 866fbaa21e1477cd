import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CREATED, fixtureJson, fixtureNames, type ResponseFixture } from '../../../test/helpers/anthropic-fixtures.js';
import { fromAnthropicMessage } from './convert-response.js';
import { toAnthropicMessage } from './render-response.js';

describe('Anthropic Message ⇄ canonical completion (fixtures)', () => {
  for (const name of fixtureNames('responses', '.json')) {
    const fixture = fixtureJson<ResponseFixture>(`responses/${name}.json`);
    it(`${name}: ${fixture.description}`, () => {
      const canonical = fromAnthropicMessage(fixture.anthropic, CREATED);
      assert.deepEqual(canonical, fixture.canonical);
      assert.deepEqual(toAnthropicMessage(canonical), fixture.rendered);
      // What the gateway renders reads back as the same completion.
      assert.deepEqual(fromAnthropicMessage(toAnthropicMessage(canonical), CREATED), canonical);
    });
  }
});

describe('toAnthropicMessage', () => {
  it('keeps tool-call arguments that are not JSON, and reads an OpenAI usage with cached tokens', () => {
    const message = toAnthropicMessage({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: CREATED,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: 'not json' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 7,
        total_tokens: 107,
        prompt_tokens_details: { cached_tokens: 64 },
      },
    });
    assert.deepEqual(message.content, [
      { type: 'tool_use', id: 'call_1', name: 'f', input: { arguments: 'not json' } },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(message.usage, {
      input_tokens: 36,
      output_tokens: 7,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 64,
    });
  });
});
