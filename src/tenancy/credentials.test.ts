import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialFrom } from './credentials.js';

describe('credentialFrom', () => {
  it('reads Authorization: Bearer (openai SDK) and x-api-key (Anthropic SDK)', () => {
    assert.equal(credentialFrom({ authorization: 'Bearer tg-abc' }), 'tg-abc');
    assert.equal(credentialFrom({ authorization: 'bearer   tg-abc  ' }), 'tg-abc');
    assert.equal(credentialFrom({ 'x-api-key': 'tg-abc' }), 'tg-abc');
    assert.equal(credentialFrom({ 'api-key': 'tg-abc' }), 'tg-abc');
  });

  it('returns null when there is nothing usable', () => {
    assert.equal(credentialFrom({}), null);
    assert.equal(credentialFrom({ authorization: 'Basic dXNlcjpwdw==' }), null);
    assert.equal(credentialFrom({ authorization: 'Bearer ', 'x-api-key': '' }), null);
  });

  it('prefers a Tollgate key wherever it is, then Authorization over x-api-key', () => {
    assert.equal(credentialFrom({ authorization: 'Bearer sk-provider', 'x-api-key': 'tg-ours' }), 'tg-ours');
    assert.equal(credentialFrom({ authorization: 'Bearer tg-ours', 'x-api-key': 'sk-ant-x' }), 'tg-ours');
    assert.equal(credentialFrom({ authorization: 'Bearer one', 'x-api-key': 'two' }), 'one');
    assert.equal(credentialFrom({ 'x-api-key': ['tg-first', 'tg-second'] }), 'tg-first');
  });
});
