import { countText, WorkBudget, type EncodingName } from './tokens-text.js';
import { segments } from './tokens-segments.js';

/** Streamed text is committed in pieces of about this many characters. */
const UNBOUNDED = new WorkBudget(Number.POSITIVE_INFINITY);
const STREAM_SEGMENT = 64;

/**
 * Counts the tokens of text that arrives in pieces (a stream's deltas) as if it were counted
 * whole: text up to the last safe cut (see `tokens-segments.ts`) is counted once and kept; only
 * the short tail after it is recounted when more arrives. `tokens` therefore equals
 * `countText(allText)` (within its work budget), at a cost linear in the text.
 *
 * @example const counter = new StreamTokenCounter(); counter.add('Hello'); counter.add(' world'); counter.tokens // → 2
 */
export class StreamTokenCounter {
  private committed = 0;
  private pending = '';
  private pendingTokens = 0;

  constructor(private readonly encoding: EncodingName = 'o200k_base') {}

  add(text: string): void {
    if (text.length === 0) return;
    this.pending += text;
    let last: [number, number] | null = null;
    let start = 0;
    for (const segment of segments(this.pending, STREAM_SEGMENT)) {
      if (last) {
        this.committed += this.count(this.pending.slice(last[0], last[1]));
        start = segment[0];
      }
      last = segment;
    }
    this.pending = this.pending.slice(start);
    this.pendingTokens = this.count(this.pending);
  }

  /** A counter at the same point, to count on from here without touching this one. */
  clone(): StreamTokenCounter {
    const copy = new StreamTokenCounter(this.encoding);
    copy.committed = this.committed;
    copy.pending = this.pending;
    copy.pendingTokens = this.pendingTokens;
    return copy;
  }

  get tokens(): number {
    return this.committed + this.pendingTokens;
  }

  /** Pieces are short (a segment of ~64 characters, or a run cut at 128), so no work budget is needed. */
  private count(text: string): number {
    return countText(text, { encoding: this.encoding, budget: UNBOUNDED }).tokens;
  }
}
