/**
 * Tollgate as a library: the same pipeline the gateway server runs.
 *
 * @example
 * import { createGateway } from 'tollgate';
 * const gateway = await createGateway({ config: { providers: { mock: { type: 'mock' } },
 *   models: { fast: { deployments: [{ provider: 'mock', model: 'mock-1' }] } } } });
 * const reply = await gateway.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
 * await gateway.close();
 *
 * The HTTP server over a gateway is `createHttpServer` from `tollgate/server`.
 */
export { createGateway } from './gateway.js';
export type { Gateway, GatewayOptions, CallOptions, ReadinessReport } from './gateway.js';
export { loadConfig, ConfigError } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
export { Secret } from './core/secret.js';
export { GatewayError, ERRORS } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { compose } from './core/pipeline.js';
export type { Policy, Handler, GatewayCall, GatewayResult } from './core/pipeline.js';
export type { CallContext, Principal, CallRecord } from './core/context.js';
export type { Provider } from './providers/types.js';
export type * from './core/types.js';
export type { CallObserver, CallSummary } from './observability/call-summary.js';
export type { StaleAnswerSource } from './router/degrade.js';
export { BREAKER_CHANNEL } from './resilience/deployment-state.js';
export type { DeploymentStatus } from './resilience/deployment-state.js';
export type { BreakerState } from './resilience/circuit-breaker.js';
