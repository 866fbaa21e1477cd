import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundledPriceTable, PriceBook } from './price-book.js';

void describe('PriceBook', () => {
  void it('bundles OpenAI and Anthropic prices with a version and a source date', () => {
    const table = bundledPriceTable();
    assert.match(table.version, /^\d{4}-\d{2}-\d{2}/);
    assert.match(table.sourceDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(Object.keys(table.providers.openai ?? {}).length >= 15);
    assert.ok(Object.keys(table.providers.anthropic ?? {}).length >= 10);
    for (const [provider, models] of Object.entries(table.providers))
      for (const [model, price] of Object.entries(models))
        assert.ok(
          price.maxOutputTokens !== undefined,
          `${provider}/${model} needs maxOutputTokens (reservations use it)`,
        );
  });

  void it('finds dated snapshots and aliases under their base name', () => {
    const book = new PriceBook();
    assert.equal(book.lookup('openai', 'gpt-4o-2024-08-06')?.key, 'openai/gpt-4o');
    assert.equal(book.lookup('anthropic', 'claude-sonnet-4-5-20250929')?.key, 'anthropic/claude-sonnet-4-5');
    assert.equal(book.lookup('anthropic', 'claude-sonnet-4-20250514')?.key, 'anthropic/claude-sonnet-4-0');
    assert.equal(book.lookup('openai', 'llama-3'), null);
  });

  void it('config prices override and extend the table, and change the version', () => {
    const plain = new PriceBook();
    const book = new PriceBook(undefined, {
      openai: { 'gpt-4o-mini': { inputPerMTok: 0.1, outputPerMTok: '0.5', maxOutputTokens: 100 } },
      vllm: { 'llama-3': { inputPerMTok: 0, outputPerMTok: 0.2 } },
    });
    assert.equal(book.lookup('openai', 'gpt-4o-mini')?.input, 100_000);
    assert.equal(book.lookup('openai', 'gpt-4o-mini')?.cachedInput, 100_000, 'cached defaults to the input price');
    assert.equal(book.lookup('vllm', 'llama-3')?.output, 200_000);
    assert.equal(plain.version, bundledPriceTable().version);
    assert.match(book.version, new RegExp(`^${plain.version.replace('.', '\\.')}\\+cfg\\.[0-9a-f]{8}$`));
  });

  void it('prices a deployment: free, inline, priceAs, provider id, provider type; mock falls back to free', () => {
    const book = new PriceBook(undefined, { 'acme-vllm': { 'llama-3': { inputPerMTok: 1, outputPerMTok: 2 } } });
    const base = { id: 'x#0', provider: 'p', providerType: 'openai', model: 'nope' };
    assert.equal(book.forDeployment({ ...base, free: true })?.free, true);
    assert.equal(book.forDeployment({ ...base, price: { inputPerMTok: 1, outputPerMTok: 2 } })?.key, 'deployment:x#0');
    assert.equal(book.forDeployment({ ...base, priceAs: 'openai/gpt-4.1' })?.key, 'openai/gpt-4.1');
    assert.equal(
      book.forDeployment({ ...base, provider: 'acme-vllm', model: 'llama-3' })?.key,
      'config:acme-vllm/llama-3',
    );
    assert.equal(book.forDeployment({ ...base, model: 'gpt-5' })?.key, 'openai/gpt-5');
    assert.equal(book.forDeployment(base), null);
    assert.equal(book.forDeployment({ ...base, providerType: 'mock', model: 'gpt-4o' })?.key, 'openai/gpt-4o');
    assert.equal(book.forDeployment({ ...base, providerType: 'mock', model: 'mock-large' })?.key, 'free:mock');
  });
});

void describe('findCostIssues', () => {
  void it('names unpriced models, bad downgrade targets, budgets without a ledger, redis without a URL', async () => {
    const { findCostIssues } = await import('../config/check-costs.js');
    const issues = findCostIssues({
      providers: { up: { type: 'openai' } },
      models: {
        a: { deployments: [{ provider: 'up', model: 'mystery-1' }] },
        b: { deployments: [{ provider: 'up', model: 'gpt-4o', free: true, priceAs: 'openai/gpt-4o' }] },
      },
      prices: {},
      ledger: { enabled: false },
      budgets: { store: 'redis', limits: [{ window: 'daily', downgradeTo: 'nope' }] },
      redis: {},
    });
    assert.deepEqual(
      issues.map((i) => i.path.join('.')),
      [
        'models.a.deployments.0',
        'models.b.deployments.0',
        'budgets.limits.0.downgradeTo',
        'redis.url',
        'ledger.enabled',
      ],
    );
    assert.match(issues[0]!.message, /no price for model "mystery-1" \(provider up, type openai\)/);
    assert.match(issues[1]!.message, /at most one of price, priceAs, free/);
  });
});
