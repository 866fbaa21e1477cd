import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { SlidingWindow } from './sliding-window.js';

describe('SlidingWindow', () => {
  it('counts both kinds and forgets buckets that left the window', async () => {
    const clock = new FakeClock();
    const window = new SlidingWindow(clock, 1_000, 10);
    window.add('a');
    window.add('b', 2);
    await clock.advance(500);
    window.add('a');
    assert.deepEqual(window.totals(), { a: 2, b: 2 });
    await clock.advance(500); // the first bucket [0, 100) has left the window
    assert.deepEqual(window.totals(), { a: 1, b: 0 });
    await clock.advance(10_000); // long idle: everything gone
    assert.deepEqual(window.totals(), { a: 0, b: 0 });
    window.add('b');
    assert.deepEqual(window.totals(), { a: 0, b: 1 });
  });

  it('reset clears everything', () => {
    const window = new SlidingWindow(new FakeClock(), 1_000);
    window.add('a', 5);
    window.reset();
    assert.deepEqual(window.totals(), { a: 0, b: 0 });
  });
});
