import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { countText, loadEncoding, WorkBudget } from './tokens.js';
import { StreamTokenCounter } from './tokens-stream.js';

// Encodings load on first use; these tests count exactly from the first call.
await loadEncoding('o200k_base');

void describe('StreamTokenCounter', () => {
  void it('counts text arriving in pieces exactly as the whole text', () => {
    const text = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    for (const size of [1, 3, 7, 40, 500]) {
      const counter = new StreamTokenCounter();
      for (let i = 0; i < text.length; i += size) counter.add(text.slice(i, i + size));
      assert.equal(counter.tokens, countText(text, { budget: new WorkBudget(60_000) }).tokens, `pieces of ${size}`);
    }
  });

  void it('handles long runs without whitespace and multi-byte characters split across pieces', () => {
    const text = `${'x'.repeat(700)} 日本語のテキスト👍🏽 ${'ab1.'.repeat(90)}`;
    const counter = new StreamTokenCounter();
    for (let i = 0; i < text.length; i += 5) counter.add(text.slice(i, i + 5));
    assert.equal(counter.tokens, countText(text, { budget: new WorkBudget(60_000) }).tokens);
  });
});
