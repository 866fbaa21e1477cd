import type { Logger } from 'pino';
import { decideBudgets } from './budget-decision.js';
import { describeScope } from './budget-spec.js';
import { formatMicros } from '../pricing/money.js';
import type { Admission, BudgetService, Reservation } from './budget-service.js';
import type { Budget, BudgetStanding } from './types.js';
import { costMicros } from '../pricing/cost.js';
import {
  estimateAlias,
  outputAllowance,
  outputCaps,
  type AliasEstimate,
  type CostEstimate,
  type EstimateOptions,
} from './cost-estimate.js';
import type { ModelPrice } from '../pricing/price-book.js';
import { StreamTokenCounter } from '../tokens/tokens-stream.js';
import type { CallContext } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import type { GatewayCall, GatewayResult, Handler, Policy } from '../core/pipeline.js';
import type { ChunkBatch } from '../core/chunk-batch.js';
import type { Deployment } from '../core/types.js';
import type { CallObserver } from '../observability/call-summary.js';
import { hasOutputLimit } from '../router/invoke-provider.js';
import type { ModelRegistry } from '../router/model-registry.js';

export interface BudgetPolicyOptions {
  service: BudgetService;
  models: ModelRegistry;
  /** The price of a deployment (every deployment has one: checked at start-up). */
  priceOf: (deployment: Deployment) => ModelPrice;
  estimate: EstimateOptions;
  /** `budgets.meterStreams`: count only streams sent upstream without an output limit (default), or all. */
  meterStreams?: 'uncapped' | 'always';
  log: Logger;
}

/** Output tokens a stream is granted at a time when it needs more than it reserved. */
const EXTEND_STEP_TOKENS = 256;
/** A stream renews its reservation this often. */
const RENEW_EVERY_MS = 60_000;

/** A reservation and the estimate it was sized by: what a stream is metered against. */
interface Held {
  reservation: Reservation;
  estimate: CostEstimate;
}

/**
 * Budgets, enforced by reservation before the call runs:
 * 1. find the budgets of the call (global, tenant, feature within tenant, key);
 * 2. reserve the most the call can cost (`estimateCall`) on all of them at once;
 * 3. refuse with 429 `budget_exceeded` naming the budget (hard), or reroute to a cheaper alias
 *    (downgrade), or let it through and alert (soft);
 * 4. when a hard (or downgrade) budget applies and the request sets no output limit, send the
 *    upstream the limit the reservation covers (`withOutputCaps`), so no answer can outspend it;
 * 5. meter a stream as it flows (one sent upstream without an output limit, or every one with
 *    `meterStreams: always`): when it outgrows its reservation, ask for more, and cut it with an
 *    in-band `budget_exceeded` event when a hard budget has no more room. A stream whose upstream
 *    request carries a limit the reservation covers is not parsed or counted; only kept alive.
 * The settle step (`settleBudgets`) turns the reservation into the call's actual cost.
 */
export function budgetPolicy(options: BudgetPolicyOptions): Policy {
  const { service, models, log } = options;

  /** Routing reports an unknown alias (model_not_found); the budget policy lets it through. */
  const estimateFor = (call: GatewayCall): AliasEstimate | null =>
    estimateAlias(call, models, options.priceOf, options.estimate);

  return {
    name: 'budget',
    wrap: (next: Handler): Handler => {
      // Synchronous when no budget applies to the caller: no promise, nothing estimated.
      const handler: Handler = (call, ctx) => {
        const budgets = service.applicable({
          tenant: ctx.principal.tenant,
          keyId: ctx.principal.keyId,
          feature: ctx.record.feature,
        });
        return budgets.length === 0 ? next(call, ctx) : governed(call, ctx, budgets);
      };
      const governed = async (
        call: GatewayCall,
        ctx: CallContext,
        budgets: readonly Budget[],
      ): Promise<GatewayResult> => {
        let estimate = estimateFor(call);
        if (!estimate) return next(call, ctx);
        const charges = service.charges(budgets, ctx.startedAtWall);
        let target = call;
        let admission = await service.reserve(ctx.callId, charges, estimate.maxCostMicros);

        const decision = admission.admitted
          ? null
          : admission.reason === 'exceeded'
            ? decideBudgets(admission.over, call.request.model, (alias) => models.has(alias))
            : null;
        if (decision?.decision === 'downgrade') {
          const downgradeTo = decision.to;
          const rerouted = withModel(call, downgradeTo);
          const cheaper = estimateFor(rerouted);
          if (cheaper) {
            const second = await service.reserve(ctx.callId, charges, cheaper.maxCostMicros);
            if (second.admitted) {
              log.info({ requestId: ctx.requestId, from: call.request.model, to: downgradeTo }, 'budget: downgraded');
              ctx.responseHeaders['x-tollgate-downgraded-from'] = call.request.model;
              ctx.record.tags = [...ctx.record.tags, `downgraded-from:${call.request.model}`];
              ctx.record.alias = downgradeTo;
              target = rerouted;
              estimate = cheaper;
              admission = second;
            }
          }
        }

        if (!admission.admitted) throw refusal(admission, estimate);
        if (admission.softOver.length > 0) {
          ctx.responseHeaders['x-tollgate-budget-warning'] = admission.softOver.map((b) => b.id).join(',');
          log.warn(
            { requestId: ctx.requestId, budgets: admission.softOver.map((b) => b.id) },
            'budget: soft budget exceeded; call allowed',
          );
        }
        const reservation = admission.reservation;
        if (budgets.some((b) => b.action !== 'soft')) {
          target = withOutputCaps(target, estimate, reservation?.amountMicros ?? estimate.maxCostMicros);
        }
        if (!reservation) return next(target, ctx);
        ctx.record.budgetHold = {
          get amountMicros() {
            return reservation.amountMicros;
          },
          settle: (costMicros) => void service.settle(reservation, costMicros),
        };
        const result = await next(target, ctx);
        if (result.kind !== 'stream') return result;
        const counted = options.meterStreams === 'always' || !isCapped(target);
        const held = { reservation, estimate };
        return {
          kind: 'stream',
          batches: counted ? meter(result.batches, held, service, ctx) : keepAlive(result.batches, held, service, ctx),
        };
      };
      return handler;
    },
  };
}

/**
 * The settle step, as a call observer: every call that holds a reservation settles it to its
 * actual cost (`costMicros` of the summary; 0 when the call failed before costing anything).
 * Runs after pricing, once per call (the settle policy guarantees it); never blocks.
 */
export function settleBudgets(): CallObserver {
  return (summary, ctx) => {
    const hold = ctx.record.budgetHold;
    if (!hold) return;
    ctx.record.budgetHold = null;
    hold.settle(summary.costMicros ?? 0);
  };
}

/**
 * The call with the output limit its reservation covers on each deployment, when it is a chat
 * call that sets none itself (deployment params and overrides count: the estimate saw them).
 */
function withOutputCaps(call: GatewayCall, estimate: AliasEstimate, reservedMicros: number): GatewayCall {
  if (call.kind !== 'chat' || hasOutputLimit(call.request)) return call;
  return { ...call, outputCaps: outputCaps(estimate, reservedMicros, call.request.n ?? 1) };
}

function withModel(call: GatewayCall, model: string): GatewayCall {
  return { ...call, request: { ...call.request, model } } as GatewayCall;
}

function refusal(admission: Exclude<Admission, { admitted: true }>, estimate: CostEstimate): GatewayError {
  if (admission.reason === 'store_unavailable') {
    return new GatewayError(
      'budget_unavailable',
      'A budget applies to this call but its counters cannot be reached right now; retry shortly.',
      { retryAfterMs: 1_000, cause: admission.error },
    );
  }
  const budget = admission.over[0]!;
  const standing = admission.standings.find((s) => s.budgetId === budget.id);
  return new GatewayError('budget_exceeded', describeRefusal(budget, standing, estimate.maxCostMicros), {
    headers: { 'x-tollgate-budget': budget.id },
  });
}

function describeRefusal(budget: Budget, standing: BudgetStanding | undefined, maxCost: number): string {
  const used = standing ? standing.spentMicros + standing.reservedMicros : null;
  const usedText =
    used === null ? '' : ` ${formatMicros(used)} of ${formatMicros(budget.limitMicros)} is spent or reserved, and`;
  const window = budget.window === 'total' ? 'total' : budget.window;
  return (
    `Budget "${budget.id}" (${describeScope(budget.scope)}, ${window}) would be exceeded:${usedText} ` +
    `this call may cost up to ${formatMicros(maxCost)}. Lower max_tokens, wait for the window to reset, or ask for a higher budget.`
  );
}

/**
 * Meters a stream against its reservation as it arrives. Counting is exact on the text streamed
 * so far, so the tokens metered equal what the settle step estimates for a stream that ends
 * without a usage report. A batch is counted whole; only when it would take the stream past
 * what its budgets allow (and no extension is granted) is it counted chunk by chunk, and the
 * chunks before the one that crosses are sent: the stream then ends with an in-band
 * `budget_exceeded` error instead.
 */
async function* meter(
  batches: AsyncIterable<ChunkBatch>,
  { reservation, estimate }: Held,
  service: BudgetService,
  ctx: CallContext,
): AsyncGenerator<ChunkBatch> {
  const counter = new StreamTokenCounter(estimate.price.encoding ?? 'o200k_base');
  let allowed = outputAllowance(reservation.amountMicros, estimate);
  for await (const batch of batches) {
    const before = counter.clone();
    counter.add(batch.outputText().join(''));
    if (counter.tokens > allowed) {
      const extraTokens = counter.tokens - allowed + EXTEND_STEP_TOKENS;
      const extra = costMicros({ input: 0, cachedInput: 0, cacheWrite: 0, output: extraTokens }, estimate.price);
      if (!(await service.extend(reservation, extra))) {
        const fits = chunksWithin(batch, before, allowed);
        if (fits > 0) yield batch.slice(0, fits);
        throw new GatewayError(
          'budget_exceeded',
          `The stream was stopped: its budget has no room for more output (after ${counter.tokens} tokens would exceed the reservation).`,
          { headers: { 'x-tollgate-budget': reservation.charges.map((c) => c.budget.id).join(',') } },
        );
      }
      allowed = outputAllowance(reservation.amountMicros, estimate);
    } else if (renewalDue(reservation, ctx)) {
      await service.extend(reservation, 0);
    }
    yield batch;
  }
}

/** Whether the upstream request carries an output limit (the client's, or the caps the reservation covers). */
function isCapped(call: GatewayCall): boolean {
  return call.kind === 'chat' && (hasOutputLimit(call.request) || call.outputCaps !== undefined);
}

/** A long stream's reservation renewed as it flows; nothing read. */
async function* keepAlive(
  batches: AsyncIterable<ChunkBatch>,
  { reservation }: Held,
  service: BudgetService,
  ctx: CallContext,
): AsyncGenerator<ChunkBatch> {
  for await (const batch of batches) {
    if (renewalDue(reservation, ctx)) await service.extend(reservation, 0);
    yield batch;
  }
}

/** Whether a long stream must renew its reservation now (else it would expire as if orphaned). */
function renewalDue(reservation: Reservation, ctx: CallContext): boolean {
  return ctx.clock.wallNow() - reservation.renewedAt > RENEW_EVERY_MS;
}

/** How many of the batch's chunks fit in `allowed` tokens, counting on from `counter` (the stream before the batch). */
function chunksWithin(batch: ChunkBatch, counter: StreamTokenCounter, allowed: number): number {
  for (let i = 0; i < batch.size; i++) {
    const parts: string[] = [];
    batch.textOf(i, parts);
    counter.add(parts.join(''));
    if (counter.tokens > allowed) return i;
  }
  return batch.size;
}
