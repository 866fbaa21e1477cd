import { readFileSync } from 'node:fs';
import type { LedgerRow } from '../ledger-row.js';

/**
 * What the crash spool holds, one JSON object per line:
 * - `row`: a finished call's ledger row, written before its answer completes;
 * - `hold`: a reservation about to be taken on a shared budget store (the counters it touches);
 * - `done`: that reservation was settled (or released) in the store.
 */
export type SpoolRecord =
  | { readonly k: 'row'; readonly row: LedgerRow }
  | { readonly k: 'hold'; readonly id: string; readonly charges: readonly SpooledCharge[] }
  | { readonly k: 'done'; readonly id: string };

/** A budget charge as the spool keeps it: budget id, window key, window start and end (epoch ms; null = never). */
export type SpooledCharge = readonly [budgetId: string, windowKey: string, start: number, end: number | null];

/** What the spool reads of a budget charge (budgets/ `BudgetCharge`): the counter it touches. */
export interface HeldCharge {
  readonly budget: { readonly id: string };
  readonly windowKey: string;
  readonly windowStart: number;
  readonly windowEnd: number;
}

export const toSpooledCharge = (c: HeldCharge): SpooledCharge => [
  c.budget.id,
  c.windowKey,
  c.windowStart,
  Number.isFinite(c.windowEnd) ? c.windowEnd : null,
];

/** One line (with its newline) for a record. */
export const encodeRecord = (record: SpoolRecord): string => `${JSON.stringify(record)}\n`;

/** `encodeRecord({ k: 'row', row })`, the same bytes, without building the wrapper object (once per call). */
export const encodeRowRecord = (row: LedgerRow): string => `{"k":"row","row":${JSON.stringify(row)}}\n`;

export interface SegmentContents {
  records: SpoolRecord[];
  /** Lines that did not parse: a torn last line after a crash mid-write, or damage. */
  unreadable: number;
}

/** Reads a segment file; lines that are not a whole record are counted, not fatal. */
export function readSegment(path: string): SegmentContents {
  const records: SpoolRecord[] = [];
  let unreadable = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      const value = JSON.parse(line) as Partial<SpoolRecord> | null;
      if (isRecord(value)) records.push(value);
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { records, unreadable };
}

function isRecord(value: Partial<SpoolRecord> | null): value is SpoolRecord {
  if (value === null || typeof value !== 'object') return false;
  if (value.k === 'row') return typeof value.row === 'object' && value.row !== null;
  if (value.k === 'hold') return typeof value.id === 'string' && Array.isArray(value.charges);
  if (value.k === 'done') return typeof value.id === 'string';
  return false;
}
