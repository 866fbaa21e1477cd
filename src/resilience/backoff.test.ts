import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exponentialBackoff, retryDelay } from './backoff.js';

describe('exponentialBackoff', () => {
  it('doubles from initialDelayMs up to maxDelayMs without jitter', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' });
    assert.deepEqual(
      Array.from({ length: 6 }, () => backoff.next()),
      [100, 200, 400, 800, 1_000, 1_000],
    );
  });

  it('full jitter: each delay is uniform in [0, the exponential delay)', () => {
    const caps = [100, 200, 400, 800, 1_000];
    const samples: number[][] = caps.map(() => []);
    for (let run = 0; run < 2_000; run++) {
      const backoff = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'full' });
      for (const [i] of caps.entries()) samples[i]!.push(backoff.next());
    }
    for (const [i, cap] of caps.entries()) {
      const values = samples[i]!;
      assert.ok(
        values.every((v) => v >= 0 && v < cap),
        `retry ${i + 1}: every delay in [0, ${cap})`,
      );
      const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
      // Uniform on [0, cap): mean cap/2, standard error cap/sqrt(12 × 2000) ≈ 0.0065 cap; ±10 % is > 15 σ.
      assert.ok(Math.abs(mean - cap / 2) < cap * 0.05, `retry ${i + 1}: mean ${mean} ≈ ${cap / 2}`);
      // Spread over the whole range, not bunched: each quarter holds 25 % ± 5 %.
      for (let q = 0; q < 4; q++) {
        const share = values.filter((v) => v >= (q * cap) / 4 && v < ((q + 1) * cap) / 4).length / values.length;
        assert.ok(Math.abs(share - 0.25) < 0.05, `retry ${i + 1}, quarter ${q}: ${share}`);
      }
    }
  });
});

describe('retryDelay', () => {
  it('uses the backoff when the upstream said nothing', () => {
    assert.equal(retryDelay(150, undefined, 2_000), 150);
  });

  it('honours retry-after: never sooner than asked', () => {
    assert.equal(retryDelay(150, 900, 2_000), 900);
    assert.equal(retryDelay(1_500, 900, 2_000), 1_500);
  });

  it('caps retry-after: a longer wait than retryAfterMaxMs means no retry here', () => {
    assert.equal(retryDelay(150, 2_000, 2_000), 2_000);
    assert.equal(retryDelay(150, 2_001, 2_000), null);
    assert.equal(retryDelay(150, 60_000, 2_000), null);
  });
});
