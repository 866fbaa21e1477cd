import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideBudgets } from './budget-decision.js';
import { toBudget } from './budget-spec.js';
import type { Budget } from './types.js';

const budget = (id: string, action: Budget['action'], downgradeTo?: string): Budget =>
  toBudget(
    {
      id,
      scope: { kind: 'global' },
      window: 'monthly',
      limitMicros: 1_000,
      action,
      ...(downgradeTo ? { downgradeTo } : {}),
    },
    'config',
  );
const aliases = new Set(['big', 'mini']);
const isAlias = (name: string): boolean => aliases.has(name);

describe('decideBudgets', () => {
  it('admits when nothing is in the way, and names the soft budgets it goes past', () => {
    assert.deepEqual(decideBudgets([], 'big', isAlias), { decision: 'admit', softOver: [] });
    const soft = budget('soft', 'soft');
    assert.deepEqual(decideBudgets([soft], 'big', isAlias), { decision: 'admit', softOver: [soft] });
  });

  it('denies on a hard budget, naming hard budgets first, even beside a downgrade budget', () => {
    const down = budget('down', 'downgrade', 'mini');
    const hard = budget('hard', 'hard');
    assert.deepEqual(decideBudgets([down, hard, budget('soft', 'soft')], 'big', isAlias), {
      decision: 'deny',
      over: [hard, down],
    });
  });

  it('downgrades to the first downgrade budget’s alias when it exists and is not the one asked for', () => {
    const first = budget('first', 'downgrade', 'mini');
    const second = budget('second', 'downgrade', 'big');
    assert.deepEqual(decideBudgets([first, second], 'big', isAlias), {
      decision: 'downgrade',
      to: 'mini',
      over: [first, second],
    });
    assert.equal(decideBudgets([first], 'mini', isAlias).decision, 'deny', 'already on the cheaper alias');
    assert.equal(
      decideBudgets([budget('gone', 'downgrade', 'nano')], 'big', isAlias).decision,
      'deny',
      'no such alias',
    );
  });
});
