import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from './errors.js';
import { formatParam, parseChatRequest, parseEmbeddingRequest } from './validate-request.js';

const rejects = (body: unknown, param: string | null, fragment: RegExp): void => {
  assert.throws(
    () => parseChatRequest(body),
    (err: unknown) =>
      err instanceof GatewayError &&
      err.code === 'invalid_request' &&
      err.param === param &&
      fragment.test(err.message),
  );
};

describe('chat request validation', () => {
  it('accepts a normal request and keeps unknown OpenAI parameters', () => {
    const request = parseChatRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      logit_bias: { 1: 2 },
      service_tier: 'auto',
    });
    assert.deepEqual(request.logit_bias, { 1: 2 });
    assert.equal(request.service_tier, 'auto');
  });

  it('names the field at fault, the way OpenAI does', () => {
    rejects({ model: 'm' }, 'messages', /'messages' is required/);
    rejects({ messages: [{ role: 'user', content: 'x' }] }, 'model', /'model' is required/);
    rejects({ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', /Invalid option/);
    rejects({ model: 'm', messages: [{ role: 'user' }] }, 'messages[0].content', /required for role "user"/);
    rejects(
      { model: 'm', messages: [{ role: 'tool', content: 'r' }] },
      'messages[0].tool_call_id',
      /required for role "tool"/,
    );
    rejects({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 'temperature', /<=2/);
    rejects({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens', />0/);
    rejects(
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
      'messages[0].content[0].image_url.url',
      /string/,
    );
  });

  it('rejects a body that is not an object', () => {
    rejects([1, 2], null, /JSON object/);
    rejects('text', null, /JSON object/);
  });

  it('validates embeddings input', () => {
    assert.equal(parseEmbeddingRequest({ model: 'e', input: ['a', 'b'] }).input.length, 2);
    assert.throws(
      () => parseEmbeddingRequest({ model: 'e', input: [] }),
      (e: unknown) => e instanceof GatewayError && e.param === 'input',
    );
  });

  it('formats paths', () => {
    assert.equal(formatParam(['messages', 0, 'content', 1, 'text']), 'messages[0].content[1].text');
  });
});
