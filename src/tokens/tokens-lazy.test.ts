import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGateway } from '../gateway.js';
import { countText, loadEncoding } from './tokens.js';
import { loadedEncodings } from './tokens-text.js';

// Issue 8, item 9: the tokenizer tables (o200k_base ~70 MB, cl100k_base ~40 MB) load on first use
// of each encoding; the gateway loads at start-up only those its deployments count with.
// This file runs in its own process: nothing has loaded an encoding before it.

void describe('tokenizer tables, loaded on first use', () => {
  void it('importing the gateway loads none', () => {
    assert.deepEqual(loadedEncodings(), []);
  });

  void it("a gateway loads its deployments' encodings at start-up, and no other: its first count is exact", async () => {
    const gateway = await createGateway({
      config: {
        storage: { url: 'sqlite::memory:' },
        log: { level: 'silent' },
        providers: { mock: { type: 'mock' } },
        models: {
          old: {
            deployments: [
              {
                provider: 'mock',
                model: 'mock-1',
                price: { inputPerMTok: 1, outputPerMTok: 2, encoding: 'cl100k_base' },
              },
            ],
          },
        },
      },
    });
    try {
      assert.deepEqual(loadedEncodings(), ['cl100k_base']);
      assert.deepEqual(countText('hello world', { encoding: 'cl100k_base' }), {
        tokens: 2,
        upperBound: 2,
        exact: true,
      });
    } finally {
      await gateway.close();
    }
  });

  void it('the first count in an encoding not loaded yet is an estimate with a true upper bound, and loads it', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const first = countText(text, { encoding: 'o200k_base' });
    assert.equal(first.exact, false);
    assert.ok(first.upperBound >= 10, `${first.upperBound}`);
    await loadEncoding('o200k_base');
    assert.deepEqual(countText(text, { encoding: 'o200k_base' }), { tokens: 10, upperBound: 10, exact: true });
    assert.deepEqual(loadedEncodings().sort(), ['cl100k_base', 'o200k_base']);
  });
});
