import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatUsage, relayedChat } from './chat-result.js';
import { GatewayError } from './errors.js';
import { spyOnJsonParse } from '../../test/helpers/json-parse-spy.js';

const answer =
  '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a \\"usage\\":{ } in text, and }{ braces"},"finish_reason":"stop"}],' +
  '"usage": {"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}},"x_vendor":{"a":"}"}}';

describe('relayed chat answers', () => {
  it('reads the usage without parsing the answer; parses the answer only when asked', async () => {
    const result = relayedChat(answer);
    const usage = await spyOnJsonParse(() => chatUsage(result));
    assert.deepEqual(usage.value, {
      prompt_tokens: 5,
      completion_tokens: 7,
      total_tokens: 12,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    assert.equal(usage.parsed.length, 1);
    assert.ok(usage.parsed[0]!.startsWith('{"prompt_tokens"'), 'only the usage object was parsed');
    assert.equal(result.json, answer);
    const read = await spyOnJsonParse(() => [result.response, result.response]);
    assert.equal(read.value[0]!.choices[0]!.message.content, 'a "usage":{ } in text, and }{ braces');
    assert.equal(read.value[0], read.value[1]);
    assert.equal(read.parsed.length, 1, 'parsed once, when read');
    assert.equal(chatUsage(relayedChat('{"id":"x","choices":[]}')), null);
  });

  it('damage inside the braces is an upstream_error where the answer is parsed', () => {
    const result = relayedChat('{"id": oops}', 'up');
    assert.throws(
      () => result.response,
      (err: unknown) =>
        err instanceof GatewayError &&
        err.code === 'upstream_error' &&
        /up: upstream sent malformed JSON/.test(err.message),
    );
  });
});
