import { LRUCache } from 'lru-cache';
import { segments } from './tokens-segments.js';

/**
 * Local token counting with gpt-tokenizer (the same token ids as tiktoken): o200k_base for the
 * GPT-4o / 4.1 / 5 / o-series families, cl100k_base for GPT-4, GPT-3.5 and text-embedding-3.
 * Used for pre-flight estimates (budget reservations, quotes) and where the upstream reported no
 * usage; the upstream's own usage is always the billing truth.
 *
 * Counting is bounded twice, so hostile text cannot stall the event loop:
 * - text is cut into segments (see `tokens-segments.ts`) so one BPE piece is never long;
 * - a `WorkBudget` caps the time one request may spend counting (default 3 ms). Past it, the
 *   rest is estimated from the ratio counted so far, and the upper bound (what a reservation
 *   uses) is the rest's UTF-8 byte length (a byte-level BPE token is at least one byte), or
 *   3 per UTF-16 unit past 256 K characters.
 */
export type EncodingName = 'o200k_base' | 'cl100k_base';

export interface TokenCount {
  /** Exact when `exact`; otherwise the best estimate. */
  tokens: number;
  /** Never below the true count (for the parts this module can see: text, not images or audio). */
  upperBound: number;
  /** False once any part was estimated (work budget spent, encoder not loaded, non-OpenAI model). */
  exact: boolean;
}

/** Text that looks like a special token (`<|endoftext|>`) is counted as text, never refused. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

type Counter = (text: string, options: typeof AS_TEXT) => number;
/** Loaded encodings. Their tables are big (o200k_base: ~350 ms and ~70 MB of RSS; cl100k_base: ~200 ms and ~40 MB), so none is loaded until asked for. */
const counters = new Map<EncodingName, Counter>();
const loading = new Map<EncodingName, Promise<void>>();

/** The encodings loaded so far. */
export function loadedEncodings(): EncodingName[] {
  return [...counters.keys()];
}

/**
 * Loads an encoding once (later calls wait for the same load). The gateway loads the encodings
 * its deployments count with at start-up, so the first request is counted exactly; anything
 * else loads on first use: until then, counts for it use another loaded encoding, or an
 * estimate, and are marked inexact.
 *
 * @example await loadEncoding('cl100k_base');
 */
export function loadEncoding(name: EncodingName): Promise<void> {
  if (counters.has(name)) return Promise.resolve();
  let pending = loading.get(name);
  if (!pending) {
    const module =
      name === 'o200k_base'
        ? import('gpt-tokenizer/encoding/o200k_base')
        : import('gpt-tokenizer/encoding/cl100k_base');
    pending = module.then(
      (m) => void counters.set(name, m.countTokens),
      (error: unknown) => {
        loading.delete(name);
        throw error;
      },
    );
    loading.set(name, pending);
  }
  return pending;
}

/** Default time one request may spend counting tokens exactly. */
/**
 * Exact counts of recent long texts that callers asked to `remember`, per encoding: a
 * conversation resends its history and its system prompt on every turn, so a budget's pre-flight
 * count would otherwise re-tokenize all of it each call (quadratic over a conversation). Looking a text up costs hashing it, about a
 * tenth of counting it. Texts under `MEMO_MIN_CHARS` are cheaper to count than to keep;
 * `MEMO_MAX_CHARS` bounds the memory (characters held, per encoding).
 */
const MEMO_MIN_CHARS = 256;
const MEMO_MAX_CHARS = 4_000_000;
const memos = new Map<EncodingName, LRUCache<string, number>>();

function memoFor(encoding: EncodingName): LRUCache<string, number> {
  let memo = memos.get(encoding);
  if (!memo) {
    memo = new LRUCache<string, number>({
      maxSize: MEMO_MAX_CHARS,
      sizeCalculation: (_tokens, text) => text.length,
    });
    memos.set(encoding, memo);
  }
  return memo;
}

export const DEFAULT_COUNT_BUDGET_MS = 3;
/** Tokens per character assumed for text estimated before anything was counted. */
const DEFAULT_RATIO = 0.3;

/**
 * A per-request allowance of counting time, shared by every text of one request. Once spent,
 * texts are estimated rather than counted.
 *
 * @example const budget = new WorkBudget(3); countText(prompt, { budget });
 */
export class WorkBudget {
  private readonly deadline: number;
  private countedChars = 0;
  private countedTokens = 0;
  spent = false;

  constructor(ms: number = DEFAULT_COUNT_BUDGET_MS) {
    this.deadline = performance.now() + ms;
  }

  /** Whether time is left; flips `spent` the first time it is not. */
  check(): boolean {
    if (!this.spent && performance.now() > this.deadline) this.spent = true;
    return !this.spent;
  }

  record(chars: number, tokens: number): void {
    this.countedChars += chars;
    this.countedTokens += tokens;
  }

  /** Tokens per character seen so far (a default before anything was counted). */
  ratio(): number {
    return this.countedChars >= 256 ? this.countedTokens / this.countedChars : DEFAULT_RATIO;
  }
}

export interface CountOptions {
  encoding?: EncodingName;
  /**
   * Keep the exact count of this text (when long) and reuse it: for text a client sends again
   * and again, a conversation's history, its system prompt, its tool definitions.
   */
  remember?: boolean;
  /** Shared by every count of one request; a fresh 3 ms budget when omitted. */
  budget?: WorkBudget;
}

/**
 * Counts one text: exact while the work budget lasts (and once its encoding is loaded), estimated after.
 *
 * @example await loadEncoding('o200k_base'); countText('hello world') // → { tokens: 2, upperBound: 2, exact: true }
 */
export function countText(text: string, options: CountOptions = {}): TokenCount {
  if (text.length === 0) return { tokens: 0, upperBound: 0, exact: true };
  const encoding = options.encoding ?? 'o200k_base';
  const budget = options.budget ?? new WorkBudget();
  const counter = counters.get(encoding);
  const memo =
    options.remember === true && counter !== undefined && text.length >= MEMO_MIN_CHARS ? memoFor(encoding) : null;
  const known = memo?.get(text);
  if (known !== undefined) {
    budget.record(text.length, known);
    return { tokens: known, upperBound: known, exact: true };
  }
  let exact = counter !== undefined;
  // First use of an encoding: load it for the next counts; this one uses another encoding, or estimates.
  if (!exact) loadEncoding(encoding).catch(() => undefined);
  const count = counter ?? counters.values().next().value;
  let tokens = 0;
  let position = 0;
  if (count)
    for (const [start, end] of segments(text)) {
      if (!budget.check()) break;
      const n = count(text.slice(start, end), AS_TEXT);
      budget.record(end - start, n);
      tokens += n;
      position = end;
    }
  if (position === text.length) {
    if (exact) memo?.set(text, tokens);
    return { tokens, upperBound: exact ? tokens : Math.max(tokens, bytes(text)), exact };
  }
  exact = false;
  const rest = text.length - position;
  return {
    tokens: tokens + Math.ceil(rest * budget.ratio()),
    upperBound: tokens + restBound(text, position),
    exact,
  };
}

/** Past this many uncounted characters, their bound is 3 per UTF-16 unit (O(1)) rather than their exact UTF-8 length. */
const EXACT_BYTES_LIMIT = 262_144;

/**
 * An upper bound of the tokens in `text` from `position` on: its UTF-8 byte length (a byte-level
 * BPE token is at least one byte), or 3 per UTF-16 code unit when measuring would itself cost
 * too much (no code unit takes more than 3 UTF-8 bytes).
 */
function restBound(text: string, position: number): number {
  const rest = text.length - position;
  return rest <= EXACT_BYTES_LIMIT ? bytes(text.slice(position)) : rest * 3;
}

/** The count of one text, as a number (exact within the default work budget). */
export function countTextTokens(text: string, options: CountOptions = {}): number {
  return countText(text, options).tokens;
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Adds counts: exact only if all are. */
export function addCounts(...counts: TokenCount[]): TokenCount {
  let tokens = 0;
  let upperBound = 0;
  let exact = true;
  for (const c of counts) {
    tokens += c.tokens;
    upperBound += c.upperBound;
    exact &&= c.exact;
  }
  return { tokens, upperBound, exact };
}

/** A fixed number of tokens (framing overheads). */
export const fixed = (n: number): TokenCount => ({ tokens: n, upperBound: n, exact: true });
