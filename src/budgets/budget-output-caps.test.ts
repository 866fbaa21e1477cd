import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { BudgetRegistry } from './budget-registry.js';
import { BudgetService } from './budget-service.js';
import { createMemoryBudgetStore } from './memory-budget-store.js';
import type { BudgetInput } from './types.js';
import { PriceBook } from '../pricing/price-book.js';
import type { GatewayCall, GatewayResult } from '../core/pipeline.js';
import type { ChatRequest } from '../core/types.js';
import { mockTestContext } from '../../test/kits/mock-test-kit.js';
import { ModelRegistry } from '../router/model-registry.js';
import { loadEncoding } from '../tokens/tokens.js';
import { budgetPolicy } from './budget-policy.js';

// Encodings load on first use (the gateway loads its deployments' at start-up): estimates here are exact from the first call.
await loadEncoding('o200k_base');

// Issue 7, item 5: the budget policy puts the output limit its reservation covers on the call.

const log = pino({ level: 'silent' });
const deployment = (model: string) => ({ provider: 'p', model, params: {}, override: {}, weight: 1 });
const models = new ModelRegistry({
  big: { type: 'chat', deployments: [deployment('gpt-4o'), deployment('gpt-4o-mini')] },
  small: { type: 'chat', deployments: [deployment('gpt-4o-mini')] },
});
const book = new PriceBook();

/** The call the policy hands on, under `budgets`. */
async function passedOn(budgets: BudgetInput[], request: Partial<ChatRequest> = {}): Promise<GatewayCall> {
  const { ctx } = mockTestContext();
  const registry = await BudgetRegistry.start({ configured: budgets, repository: null, refreshIntervalMs: 1_000, log });
  const service = new BudgetService({
    store: createMemoryBudgetStore(() => ctx.clock.wallNow()),
    registry,
    ledgerSpend: async () => 0,
    alerts: null,
    reservationTtlMs: 60_000,
    clock: ctx.clock,
    log,
  });
  const policy = budgetPolicy({
    service,
    models,
    priceOf: (d) => book.lookup('openai', d.model)!,
    estimate: { countBudgetMs: 50, defaultMaxOutputTokens: 1_000 },
    log,
  });
  let seen: GatewayCall | null = null;
  const ok = async (call: GatewayCall): Promise<GatewayResult> => {
    seen = call;
    return { kind: 'chat', response: { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [] } };
  };
  const call: GatewayCall = {
    kind: 'chat',
    stream: false,
    request: { model: 'big', messages: [{ role: 'user', content: 'hello there' }], ...request },
  };
  await policy.wrap(ok)(call, ctx);
  return seen!;
}

const caps = (call: GatewayCall) =>
  call.kind === 'chat' && call.outputCaps ? Object.fromEntries(call.outputCaps) : null;
const global = (action: 'hard' | 'soft' | 'downgrade', limitMicros = 1_000_000_000): BudgetInput => ({
  id: action,
  scope: { kind: 'global' },
  window: 'daily',
  limitMicros,
  action,
  ...(action === 'downgrade' ? { downgradeTo: 'small' } : {}),
});

void describe('budget policy: output caps', () => {
  void it("hard budget, no max_tokens: every deployment of the alias gets its model's output limit", async () => {
    // gpt-4o and gpt-4o-mini both write at most 16,384 tokens (prices.json).
    assert.deepEqual(caps(await passedOn([global('hard')])), { 'big#0': 16_384, 'big#1': 16_384 });
  });

  void it('per choice: with n = 4 the reservation covers 4 × the limit, and each choice gets the limit, not 4 ×', async () => {
    assert.deepEqual(caps(await passedOn([global('hard')], { n: 4 })), { 'big#0': 16_384, 'big#1': 16_384 });
  });

  void it("the client's own limit, a soft budget alone, or no budget: no cap", async () => {
    assert.equal(caps(await passedOn([global('hard')], { max_tokens: 50 })), null);
    assert.equal(caps(await passedOn([global('hard')], { max_completion_tokens: 50 })), null);
    assert.equal(caps(await passedOn([global('soft')])), null);
    assert.equal(caps(await passedOn([])), null);
  });

  void it('downgrade: the cheaper alias, with the caps of its own deployments', async () => {
    // Room for gpt-4o-mini's worst case ($0.0098), not gpt-4o's ($0.16).
    const call = await passedOn([global('downgrade', 20_000)]);
    assert.equal(call.kind === 'chat' && call.request.model, 'small');
    assert.deepEqual(caps(call), { 'small#0': 16_384 });
  });
});
