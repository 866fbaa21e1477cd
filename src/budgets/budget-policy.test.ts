import assert from 'node:assert/strict';
import { spyOnJsonParse } from '../../test/helpers/json-parse-spy.js';
import { ChunkBatch, chunksOf } from '../core/chunk-batch.js';
import { describe, it } from 'node:test';
import pino from 'pino';
import { BudgetRegistry } from './budget-registry.js';
import { BudgetService } from './budget-service.js';
import { createMemoryBudgetStore } from './memory-budget-store.js';
import type { BudgetInput, BudgetStore } from './types.js';
import { PriceBook } from '../pricing/price-book.js';
import { FakeClock } from '../core/clock.js';
import { newCallId, newCallRecord, ANONYMOUS, type CallContext } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';
import { summarize } from '../observability/call-summary.js';
import { ModelRegistry } from '../router/model-registry.js';
import { budgetPolicy, settleBudgets } from './budget-policy.js';
import { loadEncoding } from '../tokens/tokens.js';

// Encodings load on first use (the gateway loads its deployments' at start-up): counts here are exact from the first call.
await loadEncoding('o200k_base');

const log = pino({ level: 'silent' });
const models = new ModelRegistry({
  big: { type: 'chat', deployments: [{ provider: 'p', model: 'gpt-4o', params: {}, override: {}, weight: 1 }] },
  small: { type: 'chat', deployments: [{ provider: 'p', model: 'gpt-4o-mini', params: {}, override: {}, weight: 1 }] },
});
const book = new PriceBook();

async function setup(
  budgets: BudgetInput[],
  options: { store?: BudgetStore; ledger?: number; meterStreams?: 'uncapped' | 'always' } = {},
) {
  const clock = new FakeClock(Date.UTC(2026, 10, 28));
  const registry = await BudgetRegistry.start({ configured: budgets, repository: null, refreshIntervalMs: 1_000, log });
  const store = options.store ?? createMemoryBudgetStore(() => clock.wallNow());
  const service = new BudgetService({
    store,
    registry,
    ledgerSpend: async () => options.ledger ?? 0,
    alerts: null,
    reservationTtlMs: 60_000,
    clock,
    log,
  });
  const policy = budgetPolicy({
    service,
    models,
    priceOf: (d) => book.lookup('openai', d.model)!,
    estimate: { countBudgetMs: 50, defaultMaxOutputTokens: 1_000 },
    ...(options.meterStreams ? { meterStreams: options.meterStreams } : {}),
    log,
  });
  const context = (): CallContext => ({
    requestId: 'same-label',
    callId: newCallId(),
    principal: ANONYMOUS,
    signal: new AbortController().signal,
    log,
    clock,
    startedAt: 0,
    startedAtWall: clock.wallNow(),
    headers: {},
    record: newCallRecord('big', false),
    responseHeaders: {},
  });
  return { service, policy, clock, store, context };
}

const chat = (model: string, max_tokens = 100): GatewayCall => ({
  kind: 'chat',
  stream: false,
  request: { model, messages: [{ role: 'user', content: 'hello there' }], max_tokens },
});
const ok = async (): Promise<GatewayResult> => ({
  kind: 'chat',
  response: { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [] },
});

void describe('budget policy', () => {
  void it('passes calls through untouched when no budget applies', async () => {
    const { policy, context } = await setup([]);
    let seen: GatewayCall | null = null;
    const call = chat('big');
    await policy.wrap(async (c) => ((seen = c), ok()))(call, context());
    assert.equal(seen, call);
  });

  void it('reserves the maximum, settles to the actual cost, and seeds a new counter from the ledger', async () => {
    const budget: BudgetInput = { id: 'b', scope: { kind: 'global' }, window: 'daily', limitMicros: 10_000 };
    const { policy, service, context } = await setup([budget], { ledger: 2_500 });
    const ctx = context();
    await policy.wrap(ok)(chat('big', 100), ctx);
    const [charge] = service.charges(service.applicable({ tenant: null, keyId: null, feature: null }));
    const held = await service.store.standing(charge!);
    // gpt-4o: 100 output tokens at 10 µ$ = 1000, plus the prompt at 2.5 µ$ a token
    assert.equal(held?.spentMicros, 2_500, 'seeded from the ledger');
    assert.ok(held.reservedMicros > 1_000 && held.reservedMicros < 1_100, `reserved ${held?.reservedMicros}`);
    ctx.record.costMicros = 420;
    settleBudgets()({ ...summarize(ctx), costMicros: 420 }, ctx);
    await service.drain();
    assert.deepEqual(
      await service.store.standing(charge!).then((s) => [s?.spentMicros, s?.reservedMicros]),
      [2_920, 0],
    );
  });

  void it('downgrades only when every budget in the way is a downgrade budget', async () => {
    const downgrade: BudgetInput = {
      id: 'dg',
      scope: { kind: 'global' },
      window: 'daily',
      limitMicros: 200,
      action: 'downgrade',
      downgradeTo: 'small',
    };
    const { policy, context } = await setup([downgrade]);
    let model = '';
    const ctx = context();
    await policy.wrap(async (c) => ((model = c.request.model), ok()))(chat('big', 100), ctx);
    assert.equal(model, 'small');
    assert.equal(ctx.responseHeaders['x-tollgate-downgraded-from'], 'big');

    const hard: BudgetInput = {
      id: 'h',
      scope: { kind: 'tenant', tenant: 'default' },
      window: 'daily',
      limitMicros: 200,
    };
    const both = await setup([downgrade, hard]);
    await assert.rejects(both.policy.wrap(ok)(chat('big', 100), both.context()), (err: GatewayError) => {
      assert.equal(err.code, 'budget_exceeded');
      assert.match(err.message, /^Budget "h" \(tenant default, daily\) would be exceeded/);
      assert.equal(err.headers?.['x-tollgate-budget'], 'h');
      return true;
    });
  });

  void it('store down: fail closed (budget_unavailable, retryable) unless every budget fails open', async () => {
    const broken: BudgetStore = {
      ...createMemoryBudgetStore(),
      reserve: async () => {
        throw new Error('ECONNREFUSED');
      },
    };
    const closed = await setup([{ id: 'c', scope: { kind: 'global' }, window: 'daily', limitMicros: 1e9 }], {
      store: broken,
    });
    await assert.rejects(closed.policy.wrap(ok)(chat('big'), closed.context()), (err: GatewayError) => {
      assert.equal(err.code, 'budget_unavailable');
      assert.equal(err.retryable, true);
      return true;
    });
    const open = await setup(
      [{ id: 'o', scope: { kind: 'global' }, window: 'daily', limitMicros: 1e9, failOpen: true }],
      { store: broken },
    );
    assert.equal((await open.policy.wrap(ok)(chat('big'), open.context())).kind, 'chat');
  });

  void it('meterStreams always: meters a stream and cuts it in-band when its budget has no room to extend', async () => {
    const { policy, context } = await setup(
      [{ id: 's', scope: { kind: 'global' }, window: 'daily', limitMicros: 60 }],
      {
        meterStreams: 'always',
      },
    );
    const chunk = (content: string): ChatChunk => ({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'm',
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    });
    const upstream = async (): Promise<GatewayResult> => ({
      kind: 'stream',
      batches: (async function* () {
        // Ten reads of ten chunks: the cut falls inside a batch.
        for (let i = 0; i < 10; i++) yield ChunkBatch.of(Array.from({ length: 10 }, () => chunk(' word')));
      })(),
    });
    // gpt-4o-mini, max_tokens 5: the reservation covers 5 output tokens; the upstream sends 100.
    const call: GatewayCall = { ...chat('small', 5), stream: true, includeUsage: false } as GatewayCall;
    const result = await policy.wrap(upstream)(call, context());
    assert.equal(result.kind, 'stream');
    const received: string[] = [];
    await assert.rejects(
      (async () => {
        if (result.kind !== 'stream') return;
        for await (const c of chunksOf(result.batches)) received.push(c.choices[0]!.delta.content!);
      })(),
      (err: GatewayError) => err.code === 'budget_exceeded',
    );
    assert.ok(received.length >= 5 && received.length < 100, `streamed ${received.length} chunks`);
  });

  void it('by default a stream sent with an output limit is not read: relayed whole, its frames never parsed', async () => {
    const { policy, context } = await setup([{ id: 's', scope: { kind: 'global' }, window: 'daily', limitMicros: 60 }]);
    const frame = JSON.stringify({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'm',
      choices: [{ index: 0, delta: { content: ' word' }, finish_reason: null }],
    });
    const upstream = async (): Promise<GatewayResult> => ({
      kind: 'stream',
      batches: (async function* () {
        for (let i = 0; i < 10; i++) yield ChunkBatch.fromJson(Array.from({ length: 10 }, () => frame));
      })(),
    });
    // The same overrun as above (max_tokens 5, 100 chunks): the upstream was told the limit, so
    // the stream is trusted to it; the settle step still prices what the usage report says.
    const call: GatewayCall = { ...chat('small', 5), stream: true, includeUsage: false } as GatewayCall;
    const result = await policy.wrap(upstream)(call, context());
    if (result.kind !== 'stream') throw new Error('a stream expected');
    const { value: sse, parsed } = await spyOnJsonParse(async () => {
      let text = '';
      for await (const batch of result.batches) text += batch.toSse();
      return text;
    });
    assert.equal(parsed.length, 0);
    assert.equal(sse.split('data: ').length - 1, 100);
  });

  void it('by default a stream sent without an output limit (a soft budget sets no cap) is metered', async () => {
    const { policy, context } = await setup([
      { id: 's', scope: { kind: 'global' }, window: 'daily', limitMicros: 1_000_000, action: 'soft' },
    ]);
    let counted = 0;
    const upstream = async (): Promise<GatewayResult> => ({
      kind: 'stream',
      batches: (async function* () {
        const batch = ChunkBatch.fromJson([
          '{"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}',
        ]);
        const outputText = batch.outputText.bind(batch);
        batch.outputText = () => {
          counted++;
          return outputText();
        };
        yield batch;
      })(),
    });
    const { max_tokens: _none, ...request } = (chat('small') as { request: Record<string, unknown> }).request;
    const call = { kind: 'chat', stream: true, includeUsage: false, request } as GatewayCall;
    const result = await policy.wrap(upstream)(call, context());
    if (result.kind !== 'stream') throw new Error('a stream expected');
    for await (const _batch of result.batches);
    assert.equal(counted, 1);
  });
});
