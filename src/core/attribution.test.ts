import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attribute, withoutTollgateFields } from './attribution.js';
import { newCallRecord } from './context.js';
import type { ChatRequest } from './types.js';

const chat = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'fast',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

const attributed = (request: ChatRequest, headers: Record<string, string> = {}) => {
  const record = newCallRecord('fast', false);
  attribute(record, request, headers);
  return { feature: record.feature, user: record.user, tags: record.tags };
};

describe('attribute', () => {
  it('feature: metadata.feature beats the x-tollgate-feature header', () => {
    assert.equal(attributed(chat({ metadata: { feature: 'body' } }), { 'x-tollgate-feature': 'hdr' }).feature, 'body');
    assert.equal(attributed(chat(), { 'x-tollgate-feature': 'hdr' }).feature, 'hdr');
    assert.equal(attributed(chat()).feature, null);
  });

  it('end user: safety_identifier, then user, then x-tollgate-user', () => {
    const headers = { 'x-tollgate-user': 'hdr' };
    assert.equal(attributed(chat({ safety_identifier: 'sid', user: 'u' }), headers).user, 'sid');
    assert.equal(attributed(chat({ user: 'u' }), headers).user, 'u');
    assert.equal(attributed(chat(), headers).user, 'hdr');
    assert.equal(attributed(chat({ safety_identifier: '  ' }), headers).user, 'hdr', 'blank values do not count');
  });

  it('tags: body and header together, trimmed, de-duplicated, at most 16', () => {
    const { tags } = attributed(chat({ metadata: { tags: 'beta, eu ,beta' } }), { 'x-tollgate-tags': 'eu,prod,,' });
    assert.deepEqual(tags, ['beta', 'eu', 'prod']);
    const many = Array.from({ length: 40 }, (_, i) => `t${i}`).join(',');
    assert.equal(attributed(chat(), { 'x-tollgate-tags': many }).tags.length, 16);
  });

  it('drops control characters and caps lengths (no log or CSV line injection)', () => {
    const { feature, user } = attributed(chat({ metadata: { feature: 'a\r\nb\u0000c' } }), {
      'x-tollgate-user': 'x'.repeat(500),
    });
    assert.equal(feature, 'abc');
    assert.equal(user?.length, 128);
  });

  it('never takes the tenant from the request', () => {
    const record = newCallRecord('fast', false);
    attribute(record, chat({ metadata: { tenant: 'someone-else' } }), { 'x-tollgate-tenant': 'evil' });
    assert.ok(!('tenant' in record));
  });
});

describe('withoutTollgateFields', () => {
  it("removes Tollgate's metadata keys and keeps the client's own", () => {
    const request = chat({ metadata: { feature: 'search', tags: 'a', order: '42' } });
    assert.deepEqual(withoutTollgateFields(request).metadata, { order: '42' });
    assert.equal(request.metadata?.feature, 'search', 'the original is not modified');
  });

  it('drops metadata that held only Tollgate keys, and returns the same object when there is nothing to do', () => {
    assert.equal('metadata' in withoutTollgateFields(chat({ metadata: { feature: 'x' } })), false);
    const plain = chat({ metadata: { order: '1' } });
    assert.equal(withoutTollgateFields(plain), plain);
  });
});
