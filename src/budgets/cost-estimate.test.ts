import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputCaps, type AliasEstimate, type CostEstimate } from './cost-estimate.js';
import { costMicros } from '../pricing/cost.js';
import { FREE } from '../pricing/price-book.js';

/** An estimate of `prompt` input tokens and `outputMax` output tokens at pico-dollar prices per token. */
function estimate(prompt: number, outputMax: number, input: number, output: number): CostEstimate {
  const price = { ...FREE, free: false, input, output, cachedInput: input, cacheWrite: input };
  return {
    prompt: { tokens: prompt, upperBound: prompt, exact: true },
    promptTokensMax: prompt,
    outputTokensMax: outputMax,
    maxCostMicros: costMicros({ input: prompt, cachedInput: 0, cacheWrite: 0, output: outputMax }, price),
    inputMaxPico: BigInt(prompt) * BigInt(input),
    price,
  };
}

void describe('outputCaps', () => {
  void it("gives each deployment the output the reservation covers there, never above its own estimate's, per choice", () => {
    const dear = estimate(100, 1_000, 10_000_000, 10_000_000_000); // $10 per 1000 output tokens
    const cheap = estimate(100, 4_000, 1_000_000, 100_000_000);
    const alias: AliasEstimate = {
      ...dear,
      deployment: { id: 'dear', alias: 'a', provider: 'p', model: 'm', params: {}, override: {} },
      byDeployment: new Map([
        ['dear', dear],
        ['cheap', cheap],
      ]),
    };
    const reserved = dear.maxCostMicros;
    assert.deepEqual(
      [...outputCaps(alias, reserved, 1)],
      [
        ['dear', 1_000],
        ['cheap', 4_000],
      ],
    );
    assert.deepEqual(
      [...outputCaps(alias, reserved, 4)],
      [
        ['dear', 250],
        ['cheap', 1_000],
      ],
    );
    // The worst case on either deployment is within the reservation.
    for (const [id, cap] of outputCaps(alias, reserved, 1)) {
      const e = id === 'dear' ? dear : cheap;
      assert.ok(costMicros({ input: 100, cachedInput: 0, cacheWrite: 0, output: cap }, e.price) <= reserved);
    }
  });
});
