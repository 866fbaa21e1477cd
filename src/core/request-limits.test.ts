import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from './errors.js';
import { checkRequestLimits, DEFAULT_REQUEST_LIMITS } from './request-limits.js';
import { parseChatRequest, parseEmbeddingRequest } from './validate-request.js';
import { fromAnthropicRequest } from '../protocols/anthropic/parse-request.js';

/** `{"a":{"a":…{"a":1}}}`, `levels` objects deep, built without recursion. */
function nested(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const chat = (extra: Record<string, unknown>): Record<string, unknown> => ({
  model: 'm',
  messages: [{ role: 'user', content: 'x' }],
  ...extra,
});

const isLimit = (param: RegExp | null, message: RegExp) => (err: unknown) =>
  err instanceof GatewayError &&
  err.code === 'invalid_request' &&
  err.status === 400 &&
  (param === null ? err.param === null : param.test(err.param ?? '')) &&
  message.test(err.message);

describe('request depth and size limits', () => {
  it('rejects a 20,000-level body in each field the schema passes through, naming the limit and the path', () => {
    const deep = nested(20_000);
    const carriers: [Record<string, unknown>, RegExp][] = [
      [chat({ extra: deep }), /^extra\.a\.a\.a\.a\.a\.a\.a…$/],
      [chat({ response_format: { type: 'json_schema', json_schema: deep } }), /^response_format\.json_schema\.a/],
      [chat({ logit_bias: { 50256: deep } }), /^logit_bias\.50256\.a/],
      [
        chat({ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', x: deep } } }] }),
        /^tools\[0\]\.function\.parameters\.x\.a\.a\.a…$/,
      ],
    ];
    for (const [body, path] of carriers) {
      assert.throws(() => parseChatRequest(body), isLimit(path, /nested more than 64 levels deep.*requests\.maxDepth/));
    }
    assert.throws(() => parseEmbeddingRequest({ model: 'e', input: 'x', extra: deep }), isLimit(/^extra\.a/, /64/));
    assert.throws(
      () =>
        fromAnthropicRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], extra: deep }),
      isLimit(/^extra\.a/, /requests\.maxDepth/),
    );
  });

  it('counts the body as level 1: 64 levels pass, 65 do not; arrays count as levels too', () => {
    checkRequestLimits(nested(64)); // the body and 63 objects below it
    assert.throws(() => checkRequestLimits(nested(65)), isLimit(/^a\.a/, /64 levels/));
    let array: unknown = [1];
    for (let i = 0; i < 63; i++) array = [array];
    assert.throws(() => checkRequestLimits({ x: array }), isLimit(/^x\[0\]\[0\]/, /64 levels/));
    checkRequestLimits(nested(10), { maxDepth: 10, maxNodes: 100 });
    assert.throws(() => checkRequestLimits(nested(11), { maxDepth: 10, maxNodes: 100 }), isLimit(/a/, /10 levels/));
  });

  it('caps the number of values, wide bodies included', () => {
    const wide = { input: Array.from({ length: 5_000 }, (_, i) => i) };
    checkRequestLimits(wide, { maxDepth: 64, maxNodes: 5_002 });
    assert.throws(
      () => checkRequestLimits(wide, { maxDepth: 64, maxNodes: 5_000 }),
      isLimit(null, /more than 5000 JSON values.*requests\.maxNodes/),
    );
  });

  it("stops on a library caller's object graph with cycles (depth) and with shared sub-objects (values)", () => {
    const loop: Record<string, unknown> = { model: 'm' };
    loop.self = loop;
    assert.throws(() => checkRequestLimits(loop), isLimit(/^self\.self/, /64 levels/));
    let shared: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) shared = { l: shared, r: shared }; // 41 levels, 2^40 paths
    assert.throws(() => checkRequestLimits(shared), isLimit(null, /requests\.maxNodes/));
  });

  it('passes ordinary requests untouched, with the defaults', () => {
    assert.deepEqual(DEFAULT_REQUEST_LIMITS, { maxDepth: 64, maxNodes: 1_000_000 });
    const body = chat({
      tools: [
        {
          type: 'function',
          function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'array', items: {} } } } },
        },
      ],
      response_format: { type: 'json_object' },
    });
    assert.equal(parseChatRequest(body).model, 'm');
  });
});
