import { z } from 'zod';
import { budgetsConfigSchema } from '../budgets/budget-config.js';
import { findCostIssues } from '../pricing/check-pricing.js';
import { deploymentPricingFields, pricesConfigSchema } from '../pricing/schema.js';
import { DEFAULT_REQUEST_LIMITS } from '../core/request-limits.js';
import { findWorkerIssues, MAX_WORKERS } from './check-workers.js';
import { Secret } from './secret.js';
import { aliasResilienceFields, deploymentResilienceFields, resilienceSchema } from './resilience-schema.js';

/**
 * The configuration schema. Its type is inferred (`Config`); the loader validates once at
 * start-up and freezes the result. Every non-critical setting has a default, so an empty file
 * (or no file at all) is a valid configuration.
 */

/** A secret: a plain string in the file (discouraged), or a resolved `{env}`/`{file}`/`{vault}` reference. */
export const secretSchema = z.union(
  [
    z.instanceof(Secret),
    z
      .string()
      .min(1)
      .transform((value) => new Secret(value, 'inline')),
  ],
  { error: 'expected a string or a secret reference ({env: NAME}, {file: /path} or {vault: "path#key"})' },
);

const durationMs = z.number().int().nonnegative();

/** `server.workers`: a count, or `auto` (also accepted as a numeric string, as `--workers` passes it). */
const workersSchema = z.union([z.literal('auto'), z.coerce.number<number | string>().int().min(1).max(MAX_WORKERS)]);

const timeoutsSchema = z
  .object({
    /** TCP connect. */
    connectMs: durationMs.default(5_000),
    /** Until the upstream's response headers (for streams, the commit point). */
    firstByteMs: durationMs.default(60_000),
    /** Longest silence between two stream chunks / body bytes. */
    stallMs: durationMs.default(30_000),
    /** Whole call. 0 = no limit beyond the others. */
    totalMs: durationMs.default(600_000),
  })
  .strict();

const providerBase = {
  /** Extra headers sent upstream on every call. */
  headers: z.record(z.string(), z.string()).default({}),
  timeouts: timeoutsSchema.prefault({}),
};

const openaiProviderSchema = z
  .object({
    type: z.literal('openai'),
    baseUrl: z.url().default('https://api.openai.com/v1'),
    apiKey: secretSchema.optional(),
    /** Keep-alive connections per upstream origin. */
    connections: z.number().int().positive().default(128),
    /** Client request headers copied upstream: exact names or `prefix*` (e.g. `x-mock-*`, `openai-organization`). */
    forwardHeaders: z
      .array(
        z
          .string()
          .min(1)
          .transform((h) => h.toLowerCase()),
      )
      .default([]),
    /**
     * The field that carries the output limit upstream: `auto` sends `max_completion_tokens` to
     * api.openai.com and for OpenAI's reasoning/new models (o1, o3, gpt-5…), `max_tokens` otherwise.
     */
    outputLimitField: z.enum(['auto', 'max_completion_tokens', 'max_tokens']).default('auto'),
    ...providerBase,
  })
  .strict();

const anthropicProviderSchema = z
  .object({
    type: z.literal('anthropic'),
    /** The API origin, without `/v1` (as `ANTHROPIC_BASE_URL`): requests go to `<baseUrl>/v1/messages`. */
    baseUrl: z.url().default('https://api.anthropic.com'),
    /** Sent as `x-api-key`. */
    apiKey: secretSchema.optional(),
    /** Sent as `anthropic-version`. */
    version: z.string().min(1).default('2023-06-01'),
    /** `max_tokens` when the client sets none (Anthropic requires it). */
    defaultMaxTokens: z.number().int().positive().default(4096),
    connections: z.number().int().positive().default(128),
    forwardHeaders: z
      .array(
        z
          .string()
          .min(1)
          .transform((h) => h.toLowerCase()),
      )
      .default([]),
    ...providerBase,
  })
  .strict();

/** One injected upstream error: answered with `status` for a share `rate` of requests. */
const mockErrorSchema = z
  .object({
    status: z.number().int().min(400).max(599),
    rate: z.number().min(0).max(1),
    /** Sent as `retry-after` / `retry-after-ms` (useful with 429 and 503). */
    retryAfterS: z.number().nonnegative().optional(),
  })
  .strict();

/** One injected transport fault, for a share `rate` of requests. */
const mockFaultSchema = z
  .object({
    /** `cut`, `stall` and `error_event` apply to streams only. */
    kind: z.enum(['hang', 'reset', 'malformed', 'cut', 'stall', 'error_event']),
    rate: z.number().min(0).max(1),
    /** Content chunks sent before a stream fault strikes. */
    after: z.number().int().nonnegative().default(0),
  })
  .strict();

export const mockScenarioSchema = z
  .object({
    /** Delay before a non-stream answer or the stream's response headers (the commit point). */
    latencyMs: durationMs.default(0),
    /** Random extra delay, uniform in [0, jitterMs]. */
    jitterMs: durationMs.default(0),
    /** Delay between the stream's response headers and its first chunk. */
    ttftMs: durationMs.default(0),
    /** Delay between stream chunks. */
    chunkDelayMs: durationMs.default(0),
    /** Output length when the request does not cap it. */
    completionTokens: z.number().int().positive().default(24),
    /** Injected HTTP errors; one seeded draw per request picks at most one error or fault. */
    errors: z.array(mockErrorSchema).default([]),
    /** Injected transport faults, drawn together with `errors`. */
    faults: z.array(mockFaultSchema).default([]),
  })
  .strict()
  .refine((s) => [...s.errors, ...s.faults].reduce((sum, e) => sum + e.rate, 0) <= 1 + 1e-9, {
    message: 'the rates of errors and faults add up to more than 1',
    path: ['errors'],
  });

const mockProviderSchema = z
  .object({
    type: z.literal('mock'),
    /** Seed for the deterministic generator and the failure-injection draws. */
    seed: z.number().int().default(42),
    scenario: mockScenarioSchema.prefault({}),
    ...providerBase,
  })
  .strict();

export const providerSchema = z.discriminatedUnion('type', [
  openaiProviderSchema,
  mockProviderSchema,
  anthropicProviderSchema,
]);

const deploymentSchema = z
  .object({
    id: z.string().min(1).optional(),
    provider: z.string().min(1),
    model: z.string().min(1),
    /** Defaults merged under the client's parameters. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** Parameters forced over the client's. */
    override: z.record(z.string(), z.unknown()).default({}),
    ...deploymentResilienceFields,
    /** How this deployment is priced when the table does not say (`price`, `priceAs` or `free`). */
    ...deploymentPricingFields,
  })
  .strict();

const aliasSchema = z
  .object({
    deployments: z.array(deploymentSchema).min(1),
    /** `chat` (default) or `embeddings`. */
    type: z.enum(['chat', 'embeddings']).default('chat'),
    description: z.string().optional(),
    ...aliasResilienceFields,
  })
  .strict()
  .refine((alias) => new Set(alias.deployments.map((d, i) => d.id ?? `\0${i}`)).size === alias.deployments.length, {
    message: 'deployment ids must be unique within an alias',
    path: ['deployments'],
  });

const serverSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(4000),
    /** Largest request body accepted (413 beyond). */
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /** After SIGTERM, keep serving (readiness already 503) this long so load balancers notice. */
    drainDelayMs: durationMs.default(0),
    /** After the drain delay, how long in-flight requests and streams may take to finish. */
    shutdownGraceMs: durationMs.default(25_000),
    /** HTTP keep-alive idle timeout for client connections. */
    keepAliveTimeoutMs: durationMs.default(65_000),
    /** The whole request head must arrive within this (408 otherwise). */
    headersTimeoutMs: z.number().int().positive().default(10_000),
    /** The whole request, head and body, must arrive within this (408 otherwise); an answer being produced is not limited by it. */
    requestTimeoutMs: z.number().int().positive().default(60_000),
    /** A connection on which the client sends nothing for this long while we wait for it (head or body) is closed. */
    idleTimeoutMs: z.number().int().positive().default(30_000),
    /** Open client connections at most; the listener drops new ones beyond it. */
    maxConnections: z.number().int().positive().default(10_000),
    /** After an answer sent before the body was read (401, 413, …), read and discard at most this much of the body before closing. */
    lingerMaxBytes: z
      .number()
      .int()
      .nonnegative()
      .default(64 * 1024 * 1024),
    /** … for at most this long. */
    lingerTimeoutMs: durationMs.default(10_000),
    /** Each readiness check (storage, Redis) must answer within this, or `/health/ready` reports it `timeout`. */
    readinessTimeoutMs: z.number().int().positive().default(1_000),
    /** Calls in flight at most (every route but /health*, /metrics, /admin/); beyond it 503 `overloaded` at once. 0: no cap. */
    maxInFlight: z.number().int().nonnegative().default(512),
    /** Mean event-loop delay over the last sample (ms) above which new calls get 503 `overloaded`. 0: not checked. */
    maxEventLoopDelayMs: z.number().int().nonnegative().default(1_000),
    /** How often the event-loop delay is sampled (the mean over this window is what `maxEventLoopDelayMs` compares). */
    eventLoopSampleMs: z.number().int().min(10).max(60_000).default(500),
    /** Worker processes sharing the port (`auto`: one per available core); more than one needs shared state (config/check-workers.ts). */
    workers: workersSchema.default(1),
  })
  .strict()
  .refine((server) => server.headersTimeoutMs <= server.requestTimeoutMs, {
    message: 'headersTimeoutMs must not exceed requestTimeoutMs',
    path: ['headersTimeoutMs'],
  });

/** Bounds on request bodies beyond the byte limit, for every route and library call. */
const requestsSchema = z
  .object({
    /** Deepest nesting of objects and arrays in a body (the body itself is level 1); deeper → 400. */
    maxDepth: z.number().int().min(8).default(DEFAULT_REQUEST_LIMITS.maxDepth),
    /** Most JSON values in one body (objects, arrays and scalars); more → 400. */
    maxNodes: z.number().int().positive().default(DEFAULT_REQUEST_LIMITS.maxNodes),
  })
  .strict();

const storageSchema = z
  .object({
    /** `sqlite:./data/tollgate.db`, `sqlite::memory:` or `postgres://user@host:5432/db`. */
    url: z
      .string()
      .refine((u) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(u), 'must start with sqlite: or postgres://')
      .default('sqlite:./data/tollgate.db'),
    /** PostgreSQL schema to use (created if missing). */
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case identifier')
      .default('public'),
    password: secretSchema.optional(),
  })
  .strict();

const ledgerSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Rows buffered before a write is forced. */
    batchSize: z.number().int().positive().default(200),
    /** Longest a row waits in memory before it is written. */
    flushIntervalMs: z.number().int().positive().default(250),
    /** Rows kept in memory while the database is unreachable; the oldest are dropped past it (and counted). */
    maxBufferedRows: z.number().int().positive().default(100_000),
    /** The crash spool: rows journaled on local disk before each answer completes (accounting/spool/). */
    spool: z
      .object({
        enabled: z.boolean().default(true),
        /** Root directory (one slot per process inside). Default: `<sqlite file>-spool`, or `./data/spool` for PostgreSQL. */
        dir: z.string().min(1).optional(),
        /** `off` survives a process crash; `interval` also bounds a machine crash to `fsyncIntervalMs`; `always` to nothing. */
        fsync: z.enum(['off', 'interval', 'always']).default('interval'),
        fsyncIntervalMs: z.number().int().min(10).max(60_000).default(1_000),
        /** A segment file is sealed at this size and a new one started. */
        segmentBytes: z
          .number()
          .int()
          .min(4_096)
          .default(4 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto`: human-readable when stdout is a terminal, JSON otherwise. */
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .strict();

const redisSchema = z
  .object({
    /** `redis://host:6379/0` or `rediss://…` (a password here is masked by `config check --print`; `password` keeps it out of the file). */
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    password: secretSchema.optional(),
    /** Prefix of every key Tollgate writes, so several deployments can share one Redis. */
    keyPrefix: z.string().default('tollgate:'),
    /** A command not answered within this time counts as Redis being down. */
    commandTimeoutMs: z.number().int().positive().default(500),
  })
  .strict();

const authSchema = z
  .object({
    /**
     * `auto`: keys required once any exists, or when `server.host` is not loopback; `keys`: always
     * required; `open`: calls without a Tollgate key run anonymously.
     */
    mode: z.enum(['auto', 'keys', 'open']).default('auto'),
    /** How often each replica polls for key changes: a revocation reaches every replica within about this. */
    refreshIntervalMs: z.number().int().min(50).max(60_000).default(250),
    /** Virtual keys kept in memory per replica (least recently used dropped past it). */
    cacheSize: z.number().int().positive().default(100_000),
  })
  .strict();

const adminSchema = z
  .object({
    /** The admin API key (`/admin/v1`); the admin API is disabled without one. */
    apiKey: secretSchema.optional(),
  })
  .strict();

export const vaultSchema = z
  .object({
    address: z.url(),
    token: secretSchema,
    namespace: z.string().optional(),
    /** KV v2 mount used when a reference does not name one. */
    mount: z.string().default('secret'),
  })
  .strict();

export const configSchema = z
  .object({
    server: serverSchema.prefault({}),
    /** Depth and size limits on request bodies, checked before the schema. */
    requests: requestsSchema.prefault({}),
    log: logSchema.prefault({}),
    storage: storageSchema.prefault({}),
    ledger: ledgerSchema.prefault({}),
    auth: authSchema.prefault({}),
    admin: adminSchema.prefault({}),
    /** Read before anything else so `{vault: ...}` references can be resolved. */
    vault: vaultSchema.optional(),
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -'), providerSchema).default({}),
    /** Model aliases: what clients send as `model` → where it is served. */
    models: z.record(z.string().min(1), aliasSchema).default({}),
    /** Retry, breaker, fallback and balancing defaults for every alias (each may override). */
    resilience: resilienceSchema.prefault({}),
    /** Prices overriding and extending the bundled table: `<provider id or type>: { <model>: {...} }`. */
    prices: pricesConfigSchema,
    /** Budgets, their enforcement store and usage alerts. */
    budgets: budgetsConfigSchema.prefault({}),
    /** Shared state for several replicas (budgets today). */
    redis: redisSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of findUnknownProviders(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of findCostIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of findWorkerIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
  });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Deployments that name a provider which is not configured. It accepts the raw, unvalidated
 * tree too: zod skips `superRefine` once any other issue exists, and the loader wants this
 * mistake reported in the same list as the schema errors, so it calls this itself.
 *
 * @example findUnknownProviders({ providers: {}, models: { a: { deployments: [{ provider: 'x' }] } } })
 *   // → [{ path: ['models', 'a', 'deployments', 0, 'provider'], message: 'unknown provider "x" (configured: none)' }]
 */
export function findUnknownProviders(input: unknown): { path: (string | number)[]; message: string }[] {
  if (!isRecord(input) || !isRecord(input.models)) return [];
  const providers = isRecord(input.providers) ? Object.keys(input.providers) : [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [alias, entry] of Object.entries(input.models)) {
    if (!isRecord(entry) || !Array.isArray(entry.deployments)) continue;
    entry.deployments.forEach((deployment: unknown, index) => {
      if (!isRecord(deployment) || typeof deployment.provider !== 'string') return;
      if (providers.includes(deployment.provider)) return;
      issues.push({
        path: ['models', alias, 'deployments', index, 'provider'],
        message: `unknown provider "${deployment.provider}" (configured: ${providers.join(', ') || 'none'})`,
      });
    });
  }
  return issues;
}

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type OpenAIProviderConfig = z.infer<typeof openaiProviderSchema>;
export type MockProviderConfig = z.infer<typeof mockProviderSchema>;
export type AnthropicProviderConfig = z.infer<typeof anthropicProviderSchema>;
export type MockScenario = z.infer<typeof mockScenarioSchema>;
export type MockScenarioInput = z.input<typeof mockScenarioSchema>;
export type AliasConfig = z.infer<typeof aliasSchema>;
export type TimeoutsConfig = z.infer<typeof timeoutsSchema>;
export type VaultConfig = z.infer<typeof vaultSchema>;
export type DeploymentConfig = z.infer<typeof deploymentSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
