import { channel } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Handler } from '../core/pipeline.js';
import type { Deployment } from '../core/types.js';
import { CircuitBreaker, type BreakerSnapshot, type BreakerTransition } from './circuit-breaker.js';
import { RetryBudget } from './retry-budget.js';
import { UpstreamPause, type PauseSnapshot } from './upstream-pause.js';
import type { AliasResilience, ResilienceConfig } from './schema.js';
import {
  resolveAlias,
  resolveDeployment,
  type AliasSettings,
  type DeploymentSettings,
  type ProviderTimeouts,
} from './settings.js';

/** The settings deployment states are built from (the validated config's `resilience`, `models`, `providers`). */
export interface ResilienceSources {
  resilience: ResilienceConfig;
  models: Readonly<Record<string, AliasResilience>>;
  providers: Readonly<Record<string, { timeouts: ProviderTimeouts }>>;
}

/** An alias as the model registry hands it out: its name and its deployments, in order. */
export interface AliasDeployments {
  readonly name: string;
  readonly deployments: readonly Deployment[];
}

/** Published on every breaker transition; subscribe with `diagnostics_channel.subscribe`. */
export const BREAKER_CHANNEL = 'tollgate:breaker';
const breakerChannel = channel(BREAKER_CHANNEL);

/** Smoothing of the latency EWMA: the newest sample's weight. */
const EWMA_ALPHA = 0.3;

/** The live state of one deployment: its settings, breaker, retry budget, upstream pause and load. */
export class DeploymentRuntime {
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
  /** The `retry-after` the upstream last asked for, honoured across requests. */
  readonly pause: UpstreamPause;
  /** Attempts in progress (a stream counts until it ends). */
  inFlight = 0;
  /** Smoothed latency to the commit point of successful attempts; null before the first. */
  latencyEwmaMs: number | null = null;
  private chain: Handler | null = null;

  constructor(
    readonly deployment: Deployment,
    readonly settings: DeploymentSettings,
    clock: Clock,
    onTransition: (runtime: DeploymentRuntime, transition: BreakerTransition) => void,
    onPause: (runtime: DeploymentRuntime, pause: PauseSnapshot) => void = () => undefined,
  ) {
    this.breaker = new CircuitBreaker(clock, settings.breaker, (t) => onTransition(this, t));
    this.budget = new RetryBudget(clock, settings.retry.budget);
    this.pause = new UpstreamPause(clock, settings.maxPauseMs, (p) => onPause(this, p));
  }

  /**
   * This deployment's own composed chain (breaker → retry → attempt → timeout → first chunk →
   * provider, each stage present only when it has something to do: `deployment-chain.ts`). The
   * router runs a call on a deployment through it.
   */
  get handle(): Handler {
    if (!this.chain) throw new Error(`deployment ${this.deployment.alias}/${this.deployment.id} has no chain yet`);
    return this.chain;
  }

  /** Sets the composed chain, once, at start-up. */
  useChain(chain: Handler): void {
    if (this.chain) throw new Error(`deployment ${this.deployment.alias}/${this.deployment.id} already has a chain`);
    this.chain = chain;
  }

  recordLatency(ms: number): void {
    this.latencyEwmaMs = this.latencyEwmaMs === null ? ms : this.latencyEwmaMs + EWMA_ALPHA * (ms - this.latencyEwmaMs);
  }
}

export interface DeploymentStatus {
  id: string;
  provider: string;
  model: string;
  priority: number;
  weight: number;
  /** The breaker, with `since` as an ISO timestamp. */
  breaker: Omit<BreakerSnapshot, 'since'> & { since: string };
  /** A pause the upstream asked for (retry-after), in force until `until`; null when none. */
  pause: (PauseSnapshot & { until: string }) | null;
  inFlight: number;
  latencyEwmaMs: number | null;
  retryBudget: { available: number; refused: number };
}

/**
 * Every deployment's runtime state, keyed by the frozen `Deployment` object the registry hands
 * out (one breaker per alias deployment: the same upstream listed under two aliases has two).
 * State is local to this process (documented: replicas do not share breakers).
 */
export class DeploymentStates {
  private readonly runtimes = new Map<Deployment, DeploymentRuntime>();
  private readonly aliases = new Map<string, AliasSettings>();

  constructor(
    config: ResilienceSources,
    models: { list(): readonly AliasDeployments[] },
    private readonly clock: Clock,
    log: Logger,
  ) {
    const onTransition = (runtime: DeploymentRuntime, t: BreakerTransition): void => {
      const fields = { deployment: runtime.deployment.id, alias: runtime.deployment.alias, ...t };
      if (t.to === 'open') log.warn(fields, 'circuit breaker opened');
      else log.info(fields, t.to === 'closed' ? 'circuit breaker closed' : 'circuit breaker half-open');
      if (breakerChannel.hasSubscribers) breakerChannel.publish(fields);
    };
    const onPause = (runtime: DeploymentRuntime, pause: PauseSnapshot): void => {
      const fields = { deployment: runtime.deployment.id, alias: runtime.deployment.alias, ...pause };
      log.warn(fields, "deployment paused at the upstream's request (retry-after)");
    };
    for (const alias of models.list()) {
      const aliasConfig = config.models[alias.name];
      if (!aliasConfig) continue;
      this.aliases.set(alias.name, resolveAlias(config.resilience, aliasConfig));
      alias.deployments.forEach((deployment, index) => {
        const providerTimeouts = config.providers[deployment.provider]?.timeouts;
        const deploymentConfig = aliasConfig.deployments[index];
        if (!providerTimeouts || !deploymentConfig) return;
        const settings = resolveDeployment(config.resilience, aliasConfig, deploymentConfig, index, providerTimeouts);
        this.runtimes.set(deployment, new DeploymentRuntime(deployment, settings, clock, onTransition, onPause));
      });
    }
  }

  /** The runtime of a configured deployment (throws for one the registry did not create: a bug). */
  get(deployment: Deployment): DeploymentRuntime {
    const runtime = this.runtimes.get(deployment);
    if (!runtime) throw new Error(`no runtime state for deployment ${deployment.alias}/${deployment.id}`);
    return runtime;
  }

  /** Every deployment's runtime, in alias order. */
  all(): DeploymentRuntime[] {
    return [...this.runtimes.values()];
  }

  /** Gives each deployment its composed chain (start-up, once): `chainFor(runtime)` builds it. */
  buildChains(chainFor: (runtime: DeploymentRuntime) => Handler): void {
    for (const runtime of this.runtimes.values()) runtime.useChain(chainFor(runtime));
  }

  alias(name: string): AliasSettings {
    const settings = this.aliases.get(name);
    if (!settings) throw new Error(`no settings for alias ${name}`);
    return settings;
  }

  /** For `GET /health`: each deployment of an alias with its breaker, pause and load. */
  status(alias: Pick<AliasDeployments, 'deployments'>): DeploymentStatus[] {
    return alias.deployments.map((deployment) => {
      const runtime = this.get(deployment);
      const breaker = runtime.breaker.snapshot();
      const sinceWall = this.clock.wallNow() - (this.clock.now() - breaker.since);
      const pause = runtime.pause.snapshot();
      return {
        id: deployment.id,
        provider: deployment.provider,
        model: deployment.model,
        priority: runtime.settings.priority,
        weight: runtime.settings.weight,
        breaker: { ...breaker, since: new Date(sinceWall).toISOString() },
        pause: pause && { ...pause, until: new Date(this.clock.wallNow() + pause.remainingMs).toISOString() },
        inFlight: runtime.inFlight,
        latencyEwmaMs: runtime.latencyEwmaMs === null ? null : Math.round(runtime.latencyEwmaMs * 10) / 10,
        retryBudget: { available: runtime.budget.available(), refused: runtime.budget.refused },
      };
    });
  }
}
