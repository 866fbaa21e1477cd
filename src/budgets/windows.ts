import type { Budget, BudgetCharge, BudgetWindow } from './types.js';

const DAY = 86_400_000;
/** How long a window's counter outlives the window (for quotes and investigation), then expires. */
export const COUNTER_GRACE_MS = 7 * DAY;

/**
 * The calendar window (UTC) containing `wallMs`.
 *
 * @example windowOf('monthly', Date.UTC(2026, 10, 28, 23, 59)) // → { key: 'm2026-11', start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) }
 */
export function windowOf(window: BudgetWindow, wallMs: number): { key: string; start: number; end: number } {
  const date = new Date(wallMs);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  switch (window) {
    case 'daily': {
      const start = Date.UTC(year, month, date.getUTCDate());
      return { key: `d${new Date(start).toISOString().slice(0, 10)}`, start, end: start + DAY };
    }
    case 'monthly': {
      const start = Date.UTC(year, month, 1);
      return { key: `m${new Date(start).toISOString().slice(0, 7)}`, start, end: Date.UTC(year, month + 1, 1) };
    }
    case 'total':
      return { key: 'total', start: 0, end: Number.POSITIVE_INFINITY };
  }
}

/** The counter one budget charges for a call that starts at `wallMs`. */
export function chargeFor(budget: Budget, wallMs: number): BudgetCharge {
  const { key, start, end } = windowOf(budget.window, wallMs);
  return { budget, windowKey: key, windowStart: start, windowEnd: end };
}

/** Epoch ms at which a counter may be forgotten (0 = never). */
export function counterExpiry(charge: BudgetCharge): number {
  return Number.isFinite(charge.windowEnd) ? charge.windowEnd + COUNTER_GRACE_MS : 0;
}

/** The store's name for a counter. */
export const counterId = (charge: BudgetCharge): string => `${charge.budget.id}|${charge.windowKey}`;
