import { compose, type Handler, type Policy } from '../core/pipeline.js';
import { attempt } from '../policies/attempt.js';
import { breaker } from '../policies/breaker.js';
import { firstChunk } from '../policies/first-chunk.js';
import { retry } from '../policies/retry.js';
import { timeout } from '../policies/timeout.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';

/**
 * The stages one deployment's calls go through, outermost first, each present only when it has
 * something to do for this deployment — decided once, when the chain is composed, not per call:
 * - `breaker`: always (admits or skips; reports the outcome);
 * - `retry`: when `retry.maxAttempts` > 1;
 * - `attempt`: always (the attempt record, load figures, upstream pauses);
 * - `timeout`: when any of `firstByteMs`, `stallMs`, `totalMs` is set (> 0);
 * - `firstChunk`: always (the stream commit point; a non-stream result passes straight through).
 */
export function deploymentStages(runtime: DeploymentRuntime): Policy[] {
  const stages: Policy[] = [breaker(runtime)];
  if (runtime.settings.retry.maxAttempts > 1) stages.push(retry(runtime));
  stages.push(attempt(runtime));
  const { firstByteMs, stallMs, totalMs } = runtime.settings.timeouts;
  if (firstByteMs > 0 || stallMs > 0 || totalMs > 0) stages.push(timeout(runtime));
  stages.push(firstChunk());
  return stages;
}

/** A deployment's chain: its stages around `terminal` (the provider call for this deployment). */
export function deploymentChain(runtime: DeploymentRuntime, terminal: Handler): Handler {
  return compose(...deploymentStages(runtime))(terminal);
}
