import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasKey, isJsonObjectText, objectTextAt } from './json-scan.js';

const frame = (content: string): string =>
  `{"id":"c1","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"usage":null}`;

describe('reading JSON text without parsing it', () => {
  it('isJsonObjectText catches a text cut short', () => {
    assert.equal(isJsonObjectText(frame('x')), true);
    assert.equal(isJsonObjectText(` ${frame('x')} `), true);
    assert.equal(isJsonObjectText(frame('x').slice(0, 40)), false);
    assert.equal(isJsonObjectText('[1]'), false);
  });

  it('hasKey finds keys, never text inside strings or a value that looks like the key', () => {
    assert.equal(hasKey('{"error":{"message":"m"}}', '"error"'), true);
    assert.equal(hasKey('{"error" : null}', '"error"'), true);
    assert.equal(hasKey(frame('the "error": text'), '"error"'), false);
    assert.equal(hasKey('{"finish_reason":"error"}', '"error"'), false);
  });

  it('objectTextAt finds an object value, skipping strings, escapes and nesting', () => {
    const answer =
      '{"choices":[{"message":{"content":"a \\"usage\\":{ } and }{ braces"}}],' +
      '"usage": {"prompt_tokens":5,"prompt_tokens_details":{"cached_tokens":2}},"x":{"a":"}"}}';
    assert.equal(objectTextAt(answer, '"usage"'), '{"prompt_tokens":5,"prompt_tokens_details":{"cached_tokens":2}}');
    assert.equal(objectTextAt('{"usage":null}', '"usage"'), null);
    assert.equal(objectTextAt('{"usage":{"a":1', '"usage"'), null, 'cut short');
    assert.equal(objectTextAt('{"a":"\\\\","usage":{"b":"\\"}"}}', '"usage"'), '{"b":"\\"}"}');
  });
});
