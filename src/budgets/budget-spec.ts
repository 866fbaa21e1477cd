import {
  BUDGET_ACTIONS,
  BUDGET_WINDOWS,
  DEFAULT_THRESHOLDS,
  type Budget,
  type BudgetInput,
  type BudgetScope,
  type BudgetWindow,
} from './types.js';
import { dollarsToMicros } from '../pricing/money.js';

const WINDOW_WORDS: Record<string, BudgetWindow> = {
  day: 'daily',
  daily: 'daily',
  d: 'daily',
  month: 'monthly',
  monthly: 'monthly',
  mo: 'monthly',
  m: 'monthly',
  total: 'total',
  lifetime: 'total',
};

/**
 * Parses the CLI's budget notation, `<usd>/<window>`: `50/month`, `2.5/day`, `100/total`.
 * Dollars are turned into integer micro-dollars from the decimal text, never through a float
 * multiplication (`0.29` → 290_000 exactly).
 *
 * @example parseBudgetSpec('50/month') // → { limitMicros: 50_000_000, window: 'monthly' }
 */
export function parseBudgetSpec(spec: string): { limitMicros: number; window: BudgetWindow } {
  const match = /^\s*\$?(\d+(?:\.\d{1,6})?)\s*\/\s*([a-z]+)\s*$/i.exec(spec);
  const window = match ? WINDOW_WORDS[match[2]!.toLowerCase()] : undefined;
  if (!match || !window)
    throw new RangeError(`budget "${spec}" is not <dollars>/<day|month|total>, e.g. 50/month or 2.5/day`);
  return { limitMicros: dollarsToMicros(match[1]!), window };
}

/**
 * The default id of a scope's budget for one window: `tenant:acme:monthly`,
 * `feature:acme/search:daily`, `key:k_123:monthly`, `global:total`.
 */
export function budgetIdFor(scope: BudgetScope, window: BudgetWindow): string {
  switch (scope.kind) {
    case 'global':
      return `global:${window}`;
    case 'tenant':
      return `tenant:${scope.tenant}:${window}`;
    case 'feature':
      return `feature:${scope.tenant}/${scope.feature}:${window}`;
    case 'key':
      return `key:${scope.keyId}:${window}`;
  }
}

/** Checks and completes a `BudgetInput`; throws `RangeError` naming the bad field. */
export function toBudget(input: BudgetInput, source: Budget['source']): Budget {
  const id = input.id ?? budgetIdFor(input.scope, input.window);
  const fail = (message: string): never => {
    throw new RangeError(`budget ${id}: ${message}`);
  };
  if (id.length === 0 || id.length > 200) fail('id must be 1–200 characters');
  if (!BUDGET_WINDOWS.includes(input.window)) fail(`window must be one of ${BUDGET_WINDOWS.join(', ')}`);
  if (!Number.isSafeInteger(input.limitMicros) || input.limitMicros < 0)
    fail('limitMicros must be a non-negative integer (micro-dollars)');
  const action = input.action ?? 'hard';
  if (!BUDGET_ACTIONS.includes(action)) fail(`action must be one of ${BUDGET_ACTIONS.join(', ')}`);
  const downgradeTo = input.downgradeTo ?? null;
  if (action === 'downgrade' && !downgradeTo) fail('a downgrade budget needs downgradeTo (a cheaper alias)');
  const thresholds = [...(input.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
  for (const t of thresholds) if (!Number.isInteger(t) || t < 1 || t > 1000) fail('thresholds are integers 1–1000 (%)');
  if (new Set(thresholds).size !== thresholds.length) fail('thresholds must be distinct');
  const scope = checkScope(input.scope, fail);
  return Object.freeze({
    id,
    scope: Object.freeze({ ...scope }),
    window: input.window,
    limitMicros: input.limitMicros,
    action,
    downgradeTo,
    thresholds: Object.freeze(thresholds),
    failOpen: input.failOpen ?? false,
    source,
  });
}

function checkScope(scope: BudgetScope, fail: (message: string) => never): BudgetScope {
  const nonEmpty = (value: unknown, name: string): void => {
    if (typeof value !== 'string' || value.length === 0) fail(`scope.${name} must be a non-empty string`);
  };
  switch (scope.kind) {
    case 'global':
      return { kind: 'global' };
    case 'tenant':
      nonEmpty(scope.tenant, 'tenant');
      return { kind: 'tenant', tenant: scope.tenant };
    case 'feature':
      nonEmpty(scope.tenant, 'tenant');
      nonEmpty(scope.feature, 'feature');
      return { kind: 'feature', tenant: scope.tenant, feature: scope.feature };
    case 'key':
      nonEmpty(scope.keyId, 'keyId');
      return { kind: 'key', keyId: scope.keyId };
    default:
      return fail(`scope.kind must be global, tenant, feature or key`);
  }
}

/** A scope in words, for messages and listings: `tenant acme`, `feature search of tenant acme`. */
export function describeScope(scope: BudgetScope): string {
  switch (scope.kind) {
    case 'global':
      return 'all traffic';
    case 'tenant':
      return `tenant ${scope.tenant}`;
    case 'feature':
      return `feature ${scope.feature} of tenant ${scope.tenant}`;
    case 'key':
      return `key ${scope.keyId}`;
  }
}
