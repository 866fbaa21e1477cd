import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputLimitFieldFor, withOutputLimitField } from './output-limit.js';

void describe('openai adapter: the output limit field', () => {
  void it('auto: max_completion_tokens on api.openai.com and for reasoning/new models, max_tokens elsewhere', () => {
    assert.equal(outputLimitFieldFor('auto', 'https://api.openai.com/v1')('gpt-4o-mini'), 'max_completion_tokens');
    assert.equal(outputLimitFieldFor('auto', 'http://vllm:8000/v1')('o3-mini'), 'max_completion_tokens');
    assert.equal(outputLimitFieldFor('auto', 'http://vllm:8000/v1')('gpt-5'), 'max_completion_tokens');
    assert.equal(outputLimitFieldFor('auto', 'http://vllm:8000/v1')('llama-3.1-8b'), 'max_tokens');
    assert.equal(outputLimitFieldFor('auto', 'http://localhost:11434/v1')('gpt-4o-mini'), 'max_tokens');
    assert.equal(outputLimitFieldFor('max_tokens', 'https://api.openai.com/v1')('o3'), 'max_tokens');
  });

  void it('moves the limit into the one field, max_completion_tokens first; leaves a request without one alone', () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    assert.deepEqual(
      withOutputLimitField({ model: 'm', messages, max_completion_tokens: 5, max_tokens: 9 }, 'max_tokens'),
      {
        model: 'm',
        messages,
        max_tokens: 5,
      },
    );
    const bare = { model: 'm', messages, max_tokens: null };
    assert.equal(withOutputLimitField(bare, 'max_completion_tokens'), bare);
  });
});
