import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dollarsToMicros } from './money.js';
import { priceTableSchema, type ModelPriceInput, type PriceTable } from './schema.js';

/** A model's prices in integer micro-dollars per million tokens (= pico-dollars per token), and its limits. */
export interface ModelPrice {
  /** Where the price came from: `openai/gpt-4o`, `config:acme-vllm/llama-3`, `deployment:fast#0`, `free`. */
  readonly key: string;
  readonly input: number;
  readonly cachedInput: number;
  readonly cacheWrite: number;
  readonly output: number;
  readonly contextWindow: number | null;
  readonly maxOutputTokens: number | null;
  readonly encoding: 'o200k_base' | 'cl100k_base' | null;
  readonly imageTokensMax: number;
  readonly free: boolean;
}

/** What a deployment says about its own pricing (config fields `price`, `priceAs`, `free`). */
export interface DeploymentPricing {
  readonly id: string;
  /** Provider id (`providers.<id>`) and its type (`openai`, `anthropic`, `mock`). */
  readonly provider: string;
  readonly providerType: string;
  readonly model: string;
  readonly price?: ModelPriceInput | undefined;
  readonly priceAs?: string | undefined;
  readonly free?: true | undefined;
}

export const FREE: ModelPrice = Object.freeze({
  key: 'free',
  input: 0,
  cachedInput: 0,
  cacheWrite: 0,
  output: 0,
  contextWindow: null,
  maxOutputTokens: null,
  encoding: null,
  imageTokensMax: 0,
  free: true,
});

const DEFAULT_IMAGE_TOKENS_MAX = 4_000;

/** The bundled table (`prices.json` beside this file), validated once. */
export function bundledPriceTable(): PriceTable {
  const raw = readFileSync(new URL('./prices.json', import.meta.url), 'utf8');
  return priceTableSchema.parse(JSON.parse(raw));
}

/**
 * Prices for every model the gateway may call: the bundled table, with the config's `prices:`
 * over it. Its `version` goes on every ledger row: the bundled version, plus a hash of the
 * overrides when there are any (`2026-11-28.1+cfg.3f9a1c2e`), so a row always says which
 * figures priced it.
 *
 * @example
 * const book = new PriceBook(bundledPriceTable(), config.prices);
 * book.forDeployment({ id: 'fast#0', provider: 'openai', providerType: 'openai', model: 'gpt-4o-mini' });
 */
export class PriceBook {
  readonly version: string;
  readonly sourceDate: string;
  private readonly table: PriceTable;
  private readonly overrides: Readonly<Record<string, Readonly<Record<string, ModelPriceInput>>>>;

  constructor(
    table: PriceTable = bundledPriceTable(),
    overrides: Readonly<Record<string, Readonly<Record<string, ModelPriceInput>>>> = {},
  ) {
    this.table = table;
    this.overrides = overrides;
    this.sourceDate = table.sourceDate;
    const hasOverrides = Object.values(overrides).some((models) => Object.keys(models).length > 0);
    this.version = hasOverrides ? `${table.version}+cfg.${digest(overrides)}` : table.version;
  }

  /**
   * A model's price under a namespace (a provider id or type): the config first, then the
   * bundled table; dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) fall
   * back to their base name.
   */
  lookup(namespace: string, model: string): ModelPrice | null {
    for (const name of candidates(model, this.table.aliases[namespace])) {
      const configured = this.overrides[namespace]?.[name];
      if (configured) return toModelPrice(`config:${namespace}/${name}`, configured);
      const bundled = this.table.providers[namespace]?.[name];
      if (bundled) return toModelPrice(`${namespace}/${name}`, bundled);
    }
    return null;
  }

  /**
   * How a deployment is priced, or null when nothing says (the gateway then refuses to start):
   * `free` → `price` → `priceAs` → `prices.<provider id>` → `prices.<provider type>` → bundled
   * table; the mock provider looks its model up under every provider and is free otherwise
   * (it never spends money; the embedded default's mock aliases are priced as the real models).
   */
  forDeployment(deployment: DeploymentPricing): ModelPrice | null {
    if (deployment.free) return FREE;
    if (deployment.price) return toModelPrice(`deployment:${deployment.id}`, deployment.price);
    if (deployment.priceAs) {
      const slash = deployment.priceAs.indexOf('/');
      return this.lookup(deployment.priceAs.slice(0, slash), deployment.priceAs.slice(slash + 1));
    }
    const direct =
      this.lookup(deployment.provider, deployment.model) ?? this.lookup(deployment.providerType, deployment.model);
    if (direct) return direct;
    if (deployment.providerType === 'mock') {
      for (const namespace of Object.keys(this.table.providers)) {
        const found = this.lookup(namespace, deployment.model);
        if (found) return found;
      }
      return { ...FREE, key: 'free:mock' };
    }
    return null;
  }
}

function* candidates(model: string, aliases: Readonly<Record<string, string>> | undefined): Generator<string> {
  yield model;
  const undated = model.replace(/-\d{4}-\d{2}-\d{2}$/, '').replace(/-\d{8}$/, '');
  if (undated !== model) yield undated;
  const aliased = aliases?.[undated];
  if (aliased) yield aliased;
}

function toModelPrice(key: string, input: ModelPriceInput): ModelPrice {
  const micros = (value: string | number | undefined, fallback: number): number =>
    value === undefined ? fallback : dollarsToMicros(value);
  const inputMicros = micros(input.inputPerMTok, 0);
  return Object.freeze({
    key,
    input: inputMicros,
    cachedInput: micros(input.cachedInputPerMTok, inputMicros),
    cacheWrite: micros(input.cacheWritePerMTok, inputMicros),
    output: micros(input.outputPerMTok, 0),
    contextWindow: input.contextWindow ?? null,
    maxOutputTokens: input.maxOutputTokens ?? null,
    encoding: input.encoding ?? null,
    imageTokensMax: input.imageTokensMax ?? DEFAULT_IMAGE_TOKENS_MAX,
    free: false,
  });
}

function digest(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 8);
}

/** JSON with sorted keys, so the same overrides always hash the same. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
