import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from './config/format-errors.js';
import { configSchema, type Config, type ConfigInput } from './config/schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { attribute } from './core/attribution.js';
import { ANONYMOUS, newCallId, newCallRecord, type CallContext, type Principal } from './core/context.js';
import { chunksOf } from './core/chunk-batch.js';
import { GatewayError } from './core/errors.js';
import { compose, type GatewayCall, type GatewayResult, type Handler } from './core/pipeline.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from './core/types.js';
import { parseChatRequest, parseEmbeddingRequest } from './core/validate-request.js';
import { createBudgetAlerts } from './alerts/budget-alerts.js';
import { createCostControls, type CostControls } from './budgets/cost-controls.js';
import { spooledHolds } from './budgets/spooled-holds.js';
import { createLedger, type Ledger } from './ledger/ledger.js';
import { Spool } from './ledger/spool/spool.js';
import { spoolDirFor } from './ledger/spool/spool-dir.js';
import { recoverSpool } from './ledger/spool/spool-recovery.js';
import { ledgerObserver } from './ledger/ledger-observer.js';
import { accessLog } from './observability/access-log.js';
import { readinessProbe, type ReadinessReport } from './observability/readiness.js';
import type { CallObserver } from './observability/call-summary.js';
import { createLogger } from './observability/logger.js';
import { authenticate } from './tenancy/authenticate-policy.js';
import { clientUsage } from './policies/client-usage.js';
import { settle } from './policies/settle.js';
import { stripTollgateFields } from './policies/strip-tollgate-fields.js';
import { createProvider } from './providers/create-provider.js';
import type { Provider } from './providers/types.js';
import { invokeProvider } from './router/invoke-provider.js';
import { ModelRegistry } from './router/model-registry.js';
import { deploymentChain } from './router/deployment-chain.js';
import { routeToDeployment } from './router/route.js';
import type { StaleAnswerSource } from './router/degrade.js';
import { DeploymentStates } from './resilience/deployment-state.js';
import { openDatabase, type Database } from './storage/database.js';
import { createTenancy, type Tenancy } from './tenancy/index.js';

export interface GatewayOptions {
  /** A validated config (from `loadConfig`) or a plain object validated here. */
  config?: Config | ConfigInput;
  logger?: Logger;
  clock?: Clock;
  /** Extra observers of finished calls (metrics, tests). */
  observers?: CallObserver[];
  /** Served when every deployment of an alias failed (the response cache's stale entries). */
  staleAnswers?: StaleAnswerSource;
}

export interface CallOptions {
  requestId?: string;
  headers?: Record<string, string | string[] | undefined>;
  signal?: AbortSignal;
  principal?: Principal;
  /** Establish the principal from `headers` (the virtual key), as the HTTP server does, instead of trusting `principal`. */
  authenticate?: boolean;
}

export type { ReadinessReport } from './observability/readiness.js';

/**
 * The gateway as a library: the same pipeline the HTTP server runs, with the same policies
 * (authentication when asked, budgets, routing with fallback, the ledger). Made by
 * `createGateway`; serve it over HTTP with `createHttpServer` from `tollgate/server`.
 * Calls throw `GatewayError` (its `code` is one of `ERRORS`; `retryable` says whether a retry may help).
 */
export interface Gateway {
  /** Validates and runs a chat completion (non-stream). */
  chat(body: unknown, options?: CallOptions): Promise<ChatResponse>;
  /**
   * Validates and runs a streamed chat completion; resolves at the upstream's commit point (errors
   * before it reject, errors after it come out of the iterator).
   */
  chatStream(body: unknown, options?: CallOptions): Promise<AsyncIterable<ChatChunk>>;
  /** Validates and runs an embeddings request. */
  embeddings(body: unknown, options?: CallOptions): Promise<EmbeddingResponse>;
  /** Whether every dependency a call needs answers (the SQL store; Redis when budgets keep their counters there). */
  readiness(): Promise<ReadinessReport>;
  /** Flushes the ledger and releases connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * The gateway with its parts, for the HTTP server, the CLI and tests; not part of the package's
 * API (`tollgate` exports `Gateway`). `createHttpServer` gets it from a `Gateway` with `internalsOf`.
 */
export interface InternalGateway extends Gateway {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly models: ModelRegistry;
  /** Each deployment's breaker, retry budget and load (for `/health`). */
  readonly deployments: DeploymentStates;
  readonly clock: Clock;
  /** Prices, call pricing, budgets (reservations, SQL repository) and usage alerts. */
  readonly costs: CostControls;
  /** The SQL database (ledger, tenants, keys), migrated. */
  readonly database: Database;
  /** Tenants, virtual keys and authentication. */
  readonly tenancy: Tenancy;
  /** The composed request pipeline. */
  readonly handle: Handler;
  /**
   * A fresh context for one call, attributed (feature, user, tags from the request and headers);
   * `signal` aborts the upstream request. With `handle`, the one way a call runs: the library
   * methods, the HTTP routes and the quote route all go through these two.
   */
  createContext(call: GatewayCall, options?: CallOptions): CallContext;
  /** Turns a validated body into a call (used by the server, which has its own context). */
  toCall(kind: 'chat', request: ChatRequest): GatewayCall;
  toCall(kind: 'embeddings', request: EmbeddingRequest): GatewayCall;
}

/** Gateways made here: `internalsOf` refuses an object that merely looks like one. */
const built = new WeakSet<Gateway>();

/** The parts of a gateway made by `createGateway` (the HTTP server's view of it). */
export function internalsOf(gateway: Gateway): InternalGateway {
  if (!built.has(gateway)) throw new TypeError('not a gateway made by createGateway()');
  return gateway as InternalGateway;
}

/**
 * Builds a gateway from configuration: storage (migrated), ledger, providers, model aliases and
 * the pipeline, composed once.
 *
 * @example
 * const gateway = await createGateway({ config: { providers: { mock: { type: 'mock' } },
 *   models: { fast: { deployments: [{ provider: 'mock', model: 'mock-1' }] } } } });
 * const reply = await gateway.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
 */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  return openGateway(options);
}

/** `createGateway`, typed with its parts: for the CLI, which serves it, and for tests that look inside. */
export async function openGateway(options: GatewayOptions = {}): Promise<InternalGateway> {
  const config = Object.isFrozen(options.config)
    ? (options.config as Config)
    : configSchema.parse(options.config ?? {});
  const log = options.logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const clock = options.clock ?? systemClock;

  const database: Database = await openDatabase({
    url: config.storage.url,
    schema: config.storage.schema,
    ...(config.storage.password ? { password: config.storage.password.reveal() } : {}),
    log,
  });
  const spool = openSpool(config, log);
  const ledger: Ledger | null = config.ledger.enabled
    ? createLedger(database, {
        batchSize: config.ledger.batchSize,
        flushIntervalMs: config.ledger.flushIntervalMs,
        maxBufferedRows: config.ledger.maxBufferedRows,
        log,
        spool,
      })
    : null;

  const tenancy = await createTenancy(database, config, { clock, log });

  const providers = new Map<string, Provider>(
    Object.entries(config.providers).map(([id, providerConfig]) => [id, createProvider(id, providerConfig, clock)]),
  );
  const models = new ModelRegistry(config.models);
  const alerts = createBudgetAlerts(config.budgets.alerts, database, { clock, log });
  const costs = await createCostControls({ config, models, database, ledger, spool, alerts, clock, log });
  if (spool && spool.inherited.length > 0) {
    // A process that crashed left rows and reservations: into the ledger and the store before serving.
    const store = costs.budgets.store;
    try {
      await recoverSpool(spool.inherited, {
        database,
        store: store.kind === 'redis' ? spooledHolds(store, (id) => costs.budgets.budget(id)) : null,
        log,
      });
    } catch (err) {
      // The segments stay where they are for the next start; nothing may serve with them unreplayed.
      spool.close();
      await Promise.allSettled([tenancy.close(), costs.close(), database.close()]);
      throw err;
    }
    spool.forgetInherited();
  }

  const observers: CallObserver[] = [
    accessLog(log),
    ...(ledger ? [ledgerObserver(ledger)] : []),
    ...costs.observers,
    ...(options.observers ?? []),
  ];
  const deployments = new DeploymentStates(config, models, clock, log);
  deployments.buildChains((runtime) => {
    const provider = providers.get(runtime.deployment.provider);
    if (!provider)
      throw new Error(`deployment ${runtime.deployment.id} names unknown provider ${runtime.deployment.provider}`);
    return deploymentChain(runtime, invokeProvider(provider, runtime.deployment));
  });
  const route = routeToDeployment(models, { states: deployments, stale: options.staleAnswers });
  const handle = compose(
    clientUsage(),
    settle(observers, { price: (call, ctx) => costs.price(call, ctx) }),
    authenticate(tenancy.authenticator),
    stripTollgateFields(),
    costs.policy,
  )(route);

  function createContext(call: GatewayCall, callOptions: CallOptions = {}): CallContext {
    const requestId = callOptions.requestId ?? randomUUID();
    const ctx: CallContext = {
      requestId,
      callId: newCallId(),
      principal: callOptions.principal ?? ANONYMOUS,
      authenticate: callOptions.authenticate === true,
      signal: callOptions.signal ?? new AbortController().signal,
      log,
      clock,
      startedAt: clock.now(),
      startedAtWall: clock.wallNow(),
      headers: callOptions.headers ?? {},
      record: newCallRecord(call.request.model, call.kind === 'chat' && call.stream),
      responseHeaders: {},
    };
    attribute(ctx.record, call.request, ctx.headers);
    return ctx;
  }

  function toCall(kind: 'chat' | 'embeddings', request: ChatRequest | EmbeddingRequest): GatewayCall {
    if (kind === 'embeddings') return { kind: 'embeddings', request: request as EmbeddingRequest };
    const chat = request as ChatRequest;
    if (chat.stream === true)
      return { kind: 'chat', request: chat, stream: true, includeUsage: chat.stream_options?.include_usage === true };
    return { kind: 'chat', request: chat, stream: false };
  }

  /** The one way a call runs, for the library here and the HTTP server (`createContext` + `handle`). */
  async function run(call: GatewayCall, options: CallOptions | undefined): Promise<GatewayResult> {
    return handle(call, createContext(call, options));
  }

  // Every dependency a call needs: the SQL store, and Redis when budgets keep their counters there.
  const readiness = readinessProbe(
    { storage: () => database.ping(), ...(costs.storePing ? { redis: costs.storePing } : {}) },
    { timeoutMs: config.server.readinessTimeoutMs, log },
  );

  let closed: Promise<void> | null = null;

  const gateway: InternalGateway = {
    config,
    log,
    models,
    deployments,
    clock,
    costs,
    database,
    tenancy,
    handle,
    createContext,
    toCall,
    async chat(body, callOptions) {
      const request = parseChatRequest(body, config.requests);
      const result = await run(toCall('chat', { ...request, stream: false }), callOptions);
      if (result.kind !== 'chat')
        throw new GatewayError('internal_error', `expected a chat response, got ${result.kind}`);
      return result.response;
    },
    async chatStream(body, callOptions) {
      const request = parseChatRequest(body, config.requests);
      const result = await run(toCall('chat', { ...request, stream: true }), callOptions);
      if (result.kind !== 'stream') throw new GatewayError('internal_error', `expected a stream, got ${result.kind}`);
      return chunksOf(result.batches);
    },
    async embeddings(body, callOptions) {
      const result = await run(toCall('embeddings', parseEmbeddingRequest(body, config.requests)), callOptions);
      if (result.kind !== 'embeddings')
        throw new GatewayError('internal_error', `expected embeddings, got ${result.kind}`);
      return result.response;
    },
    readiness,
    close() {
      closed ??= (async () => {
        await tenancy.close();
        await costs.close();
        if (ledger) await ledger.close();
        spool?.close();
        await Promise.allSettled([...providers.values()].map((p) => (p.close ? p.close() : Promise.resolve())));
        await database.close();
      })();
      return closed;
    },
  };
  built.add(gateway);
  return gateway;
}

/** The crash spool (`ledger.spool`), or null when off; a directory that cannot be used stops start-up, naming the setting. */
function openSpool(config: Config, log: Logger): Spool | null {
  const dir = spoolDirFor(config);
  if (dir === null) return null;
  const { fsync, fsyncIntervalMs, segmentBytes } = config.ledger.spool;
  try {
    return new Spool({ dir, fsync, fsyncIntervalMs, segmentBytes, log });
  } catch (err) {
    throw new ConfigError([
      {
        path: 'ledger.spool.dir',
        message: `the crash spool cannot use ${dir} (${err instanceof Error ? err.message : String(err)}); point ledger.spool.dir at a writable local directory, or set ledger.spool.enabled: false`,
      },
    ]);
  }
}
