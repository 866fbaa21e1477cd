/**
 * A FIFO of rows waiting to be written, bounded by `capacity`: pushing past it drops the
 * oldest row. `push` and `take` are O(1) amortised (a head index instead of `shift()`, with the
 * array compacted once the consumed prefix outgrows the live part).
 *
 * @example
 * const queue = new LedgerQueue<string>(2);
 * queue.push('a'); queue.push('b'); queue.push('c'); // returns 1: 'a' was dropped
 * queue.take(10); // ['b', 'c']
 */
export class LedgerQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends `item`; returns how many of the oldest items were dropped to make room (0 or 1). */
  push(item: T): number {
    this.items.push(item);
    if (this.length <= this.capacity) return 0;
    this.items[this.head++] = undefined;
    this.compact();
    return 1;
  }

  /** Removes and returns up to `n` items from the front. */
  take(n: number): T[] {
    const end = Math.min(this.items.length, this.head + n);
    const taken = this.items.slice(this.head, end) as T[];
    this.items.fill(undefined, this.head, end);
    this.head = end;
    this.compact();
    return taken;
  }

  /** Puts `items` back at the front (a write that failed); returns how many oldest were dropped. */
  restore(items: readonly T[]): number {
    const merged = items.concat(this.items.slice(this.head) as T[]);
    const excess = Math.max(0, merged.length - this.capacity);
    this.items = excess > 0 ? merged.slice(excess) : merged;
    this.head = 0;
    return excess;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const count = this.length;
    this.items = [];
    this.head = 0;
    return count;
  }

  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
