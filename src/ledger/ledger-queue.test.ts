import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LedgerQueue } from './ledger-queue.js';

void describe('LedgerQueue', () => {
  void it('is first in, first out', () => {
    const queue = new LedgerQueue<number>(10);
    for (let i = 0; i < 5; i++) queue.push(i);
    assert.deepEqual(queue.take(3), [0, 1, 2]);
    queue.push(5);
    assert.deepEqual(queue.take(10), [3, 4, 5]);
    assert.equal(queue.length, 0);
    assert.deepEqual(queue.take(1), []);
  });

  void it('drops the oldest item past capacity and says so', () => {
    const queue = new LedgerQueue<string>(2);
    assert.equal(queue.push('a'), 0);
    assert.equal(queue.push('b'), 0);
    assert.equal(queue.push('c'), 1);
    assert.deepEqual(queue.take(5), ['b', 'c']);
  });

  void it('restores a taken batch at the front, trimming the oldest past capacity', () => {
    const queue = new LedgerQueue<number>(4);
    [1, 2, 3].forEach((n) => queue.push(n));
    const batch = queue.take(3);
    queue.push(4);
    queue.push(5);
    assert.equal(queue.restore(batch), 1);
    assert.deepEqual(queue.take(10), [2, 3, 4, 5]);
  });

  void it('stays correct across compaction with many pushes and takes', () => {
    const queue = new LedgerQueue<number>(100_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 997; i++) queue.push(next++);
      for (const n of queue.take(900)) assert.equal(n, expected++);
    }
    assert.equal(queue.length, next - expected);
    assert.equal(queue.clear(), next - expected);
    assert.equal(queue.length, 0);
  });

  void it('refuses a capacity below one', () => {
    assert.throws(() => new LedgerQueue(0), RangeError);
  });
});
