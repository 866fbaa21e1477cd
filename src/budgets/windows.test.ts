import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { windowOf } from './windows.js';

void describe('windowOf (calendar windows, UTC)', () => {
  void it('daily and monthly windows start at 00:00 UTC and end at the next boundary', () => {
    const t = Date.UTC(2026, 1, 28, 23, 59, 59, 999); // 2026-02-28, last millisecond
    assert.deepEqual(windowOf('daily', t), {
      key: 'd2026-02-28',
      start: Date.UTC(2026, 1, 28),
      end: Date.UTC(2026, 2, 1),
    });
    assert.deepEqual(windowOf('monthly', t), {
      key: 'm2026-02',
      start: Date.UTC(2026, 1, 1),
      end: Date.UTC(2026, 2, 1),
    });
    assert.equal(windowOf('daily', t + 1).key, 'd2026-03-01');
    assert.equal(windowOf('monthly', Date.UTC(2026, 11, 31, 12)).end, Date.UTC(2027, 0, 1));
    assert.deepEqual(windowOf('total', t), { key: 'total', start: 0, end: Number.POSITIVE_INFINITY });
  });
});
