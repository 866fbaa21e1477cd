import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatUsage, relayedChat } from './chat-result.js';
import { GatewayError } from './errors.js';
import { objectTextAt } from './json-scan.js';

const answer =
  '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a \\"usage\\":{ } in text, and }{ braces"},"finish_reason":"stop"}],' +
  '"usage": {"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}},"x_vendor":{"a":"}"}}';

describe('relayed chat answers', () => {
  it('objectTextAt finds an object value, skipping strings, escapes and nesting', () => {
    assert.equal(
      objectTextAt(answer, '"usage"'),
      '{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}}',
    );
    assert.equal(objectTextAt('{"usage":null}', '"usage"'), null);
    assert.equal(objectTextAt('{"usage":{"a":1', '"usage"'), null, 'cut short');
    assert.equal(objectTextAt('{"a":"\\\\","usage":{"b":"\\"}"}}', '"usage"'), '{"b":"\\"}"}');
  });

  it('reads the usage without parsing the answer; parses the answer only when asked', () => {
    const result = relayedChat(answer);
    const parse = JSON.parse;
    const parsed: string[] = [];
    JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      parsed.push(text);
      return parse(text, reviver);
    }) as typeof JSON.parse;
    try {
      assert.deepEqual(chatUsage(result), {
        prompt_tokens: 5,
        completion_tokens: 7,
        total_tokens: 12,
        prompt_tokens_details: { cached_tokens: 2 },
      });
      assert.equal(parsed.length, 1);
      assert.ok(parsed[0]!.startsWith('{"prompt_tokens"'), 'only the usage object was parsed');
      assert.equal(result.json, answer);
      assert.equal(result.response.choices[0]!.message.content, 'a "usage":{ } in text, and }{ braces');
      assert.equal(result.response, result.response, 'parsed once');
      assert.equal(parsed.length, 2);
    } finally {
      JSON.parse = parse;
    }
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
