import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billedTokens, costMicros, sumMicros, usageCostMicros } from './cost.js';
import { PriceBook } from './price-book.js';

const book = new PriceBook();
const mini = book.lookup('openai', 'gpt-4o-mini')!;
const sonnet = book.lookup('anthropic', 'claude-sonnet-4-5')!;

void describe('cost', () => {
  void it('prices gpt-4o-mini exactly in micro-dollars', () => {
    assert.equal(mini.input, 150_000);
    assert.equal(mini.output, 600_000);
    assert.equal(costMicros({ input: 1000, cachedInput: 0, cacheWrite: 0, output: 500 }, mini), 450);
    assert.equal(costMicros({ input: 1_000_000, cachedInput: 0, cacheWrite: 0, output: 1_000_000 }, mini), 750_000);
  });

  void it('splits cached and cache-write tokens out of prompt_tokens', () => {
    const usage = {
      prompt_tokens: 10_000,
      completion_tokens: 200,
      total_tokens: 10_200,
      prompt_tokens_details: { cached_tokens: 6_000, cache_write_tokens: 3_000 },
    };
    assert.deepEqual(billedTokens(usage), { input: 1_000, cachedInput: 6_000, cacheWrite: 3_000, output: 200 });
    // sonnet: 3.00 in, 0.30 cache read, 3.75 cache write, 15.00 out (per MTok)
    // 1000×3 + 6000×0.30 + 3000×3.75 + 200×15 = 3000 + 1800 + 11250 + 3000 = 19050 µ$
    assert.equal(usageCostMicros(usage, sonnet), 19_050);
  });

  void it('rounds each call up to a whole micro-dollar, never down', () => {
    // 1 token of gpt-4o-mini input = 0.15 µ$ → 1 µ$
    assert.equal(costMicros({ input: 1, cachedInput: 0, cacheWrite: 0, output: 0 }, mini), 1);
    assert.equal(costMicros({ input: 0, cachedInput: 0, cacheWrite: 0, output: 0 }, mini), 0);
    // 0.075 µ$/token cached: 40 tokens = 3 µ$ exactly
    assert.equal(costMicros({ input: 0, cachedInput: 40, cacheWrite: 0, output: 0 }, mini), 3);
  });

  void it('sums are sums of integers: no float drift over a million rows', () => {
    const rows = Array.from({ length: 1_000_000 }, (_, i) => (i % 7) + 1);
    assert.equal(sumMicros(rows), 3_999_997);
    assert.throws(() => sumMicros([0.1, 0.2]), /not an integer/);
  });

  void it('is exact where float maths is not', () => {
    // 0.1 + 0.2 dollars as floats is 0.30000000000000004; as micros it is 300_000.
    const cents = book.lookup('openai', 'gpt-5-nano')!; // 0.05 in, 0.40 out
    const total = sumMicros(
      Array.from({ length: 3 }, () =>
        costMicros({ input: 2_000_000, cachedInput: 0, cacheWrite: 0, output: 0 }, cents),
      ),
    );
    assert.equal(total, 300_000);
  });

  void it('treats negative or missing fields as zero', () => {
    assert.deepEqual(billedTokens({ prompt_tokens: -5, completion_tokens: Number.NaN, total_tokens: 0 }), {
      input: 0,
      cachedInput: 0,
      cacheWrite: 0,
      output: 0,
    });
  });
});
