import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Spool, SpoolTicket } from '../ledger/spool/spool.js';
import type { BudgetRegistry, BudgetSubject } from './budget-registry.js';
import type { Budget, BudgetCharge, BudgetStanding, BudgetStore, ReserveOutcome, StandingsObserver } from './types.js';
import { chargeFor } from './windows.js';

/** A reservation held for one call; settled (or released) exactly once, by request id. */
export interface Reservation {
  readonly id: string;
  readonly charges: readonly BudgetCharge[];
  /** Micro-dollars held so far (grows when a stream extends it). */
  amountMicros: number;
  /** Wall ms of the last reserve/extend (streams renew before the TTL runs out). */
  renewedAt: number;
  /** The reservation's entry in the crash spool (shared stores only), done once settled. */
  readonly spooled?: SpoolTicket;
}

export type Admission =
  /** Go ahead; `reservation` is null when no budget applies or the store is down and every budget fails open. */
  | { readonly admitted: true; readonly reservation: Reservation | null; readonly softOver: readonly Budget[] }
  | {
      readonly admitted: false;
      readonly reason: 'exceeded';
      /** The hard (or downgrade) budgets with no room, first the one to name in the error. */
      readonly over: readonly Budget[];
      readonly standings: readonly BudgetStanding[];
    }
  | { readonly admitted: false; readonly reason: 'store_unavailable'; readonly error: Error };

export interface BudgetServiceOptions {
  store: BudgetStore;
  registry: BudgetRegistry;
  /** Ledger spend of one counter's window (the source of truth for seeding). */
  ledgerSpend: (charge: BudgetCharge) => Promise<number>;
  /** Runs before reading the ledger to seed (flushes this process's buffered rows). */
  beforeSeed?: () => Promise<void>;
  alerts: StandingsObserver | null;
  reservationTtlMs: number;
  clock: Clock;
  log: Logger;
  /**
   * The crash spool, for a store that outlives this process (Redis): each reservation is
   * journaled before it is taken and marked done once settled, so a restart settles or releases
   * what a crash left held instead of waiting for the reservation's TTL.
   */
  spool?: Spool | null;
}

const SEED_ATTEMPTS = 3;

/**
 * Budget enforcement by reservation, over a `BudgetStore`: reserve the most a call can cost
 * before it runs, extend while a stream needs more, settle to the actual cost when it ends
 * (idempotent by request id). Seeds counters from the ledger when the store does not know them,
 * and applies each budget's `failOpen` when the store is down.
 */
export class BudgetService {
  private readonly options: BudgetServiceOptions;
  private storeDownSince = 0;
  private readonly settling = new Set<Promise<void>>();

  constructor(options: BudgetServiceOptions) {
    this.options = options;
  }

  get store(): BudgetStore {
    return this.options.store;
  }

  /** A budget definition by id (config or SQL). */
  budget(id: string): Budget | undefined {
    return this.options.registry.get(id);
  }

  applicable(subject: BudgetSubject): Budget[] {
    return this.options.registry.applicable(subject);
  }

  charges(budgets: readonly Budget[], wallMs = this.options.clock.wallNow()): BudgetCharge[] {
    return budgets.map((budget) => chargeFor(budget, wallMs));
  }

  /** Reserves `amountMicros` on every charge, all or nothing. */
  async reserve(id: string, charges: readonly BudgetCharge[], amountMicros: number): Promise<Admission> {
    if (charges.length === 0) return { admitted: true, reservation: null, softOver: [] };
    let outcome: ReserveOutcome;
    // Journaled before the store holds anything: a crash in between leaves at worst a release of nothing.
    const spooled = this.options.spool?.appendHold(id, charges);
    try {
      outcome = await this.withSeeding(() =>
        this.options.store.reserve({ id, charges, amountMicros, ttlMs: this.options.reservationTtlMs }),
      );
      this.storeUp();
    } catch (err) {
      spooled?.done();
      return this.storeDown(charges, err);
    }
    if (!outcome.ok) spooled?.done();
    if (!('standings' in outcome)) return this.storeDown(charges, new Error('budget counters could not be seeded'));
    const byId = new Map(charges.map((c) => [c.budget.id, c.budget]));
    const over = outcome.over.map((budgetId) => byId.get(budgetId)!);
    if (!outcome.ok) {
      const refusing = over.filter((b) => b.action !== 'soft').map((b) => b.id);
      this.options.alerts?.observe(byId, outcome.standings, new Set(refusing));
      return {
        admitted: false,
        reason: 'exceeded',
        // Hard budgets first: they are the ones that cannot be routed around.
        over: over.filter((b) => b.action === 'hard').concat(over.filter((b) => b.action === 'downgrade')),
        standings: outcome.standings,
      };
    }
    const reservation: Reservation = {
      id,
      charges,
      amountMicros,
      renewedAt: this.options.clock.wallNow(),
      ...(spooled ? { spooled } : {}),
    };
    return { admitted: true, reservation, softOver: over };
  }

  /**
   * Adds `extraMicros` to a reservation (a stream needs more). False when a hard budget has no
   * room; true (unmetered) when the store is down and the budgets fail open.
   */
  async extend(reservation: Reservation, extraMicros: number): Promise<boolean> {
    try {
      const outcome = await this.withSeeding(() =>
        this.options.store.extend(reservation.id, extraMicros, reservation.charges, this.options.reservationTtlMs),
      );
      this.storeUp();
      if (!outcome.ok) return false;
      reservation.amountMicros += extraMicros;
      reservation.renewedAt = this.options.clock.wallNow();
      return true;
    } catch (err) {
      const admission = this.storeDown(reservation.charges, err);
      return admission.admitted;
    }
  }

  /** Turns the reservation into spend (the call's actual cost); alerts on thresholds crossed. Never throws. */
  settle(reservation: Reservation, actualMicros: number): Promise<void> {
    const settling = this.settleNow(reservation, actualMicros);
    this.settling.add(settling);
    void settling.finally(() => this.settling.delete(settling));
    return settling;
  }

  /** Resolves once every settle started so far has finished (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.settling]);
  }

  private async settleNow(reservation: Reservation, actualMicros: number): Promise<void> {
    try {
      const standings = await this.options.store.settle(reservation.id, actualMicros, reservation.charges);
      if (reservation.spooled) this.options.spool?.resolved(reservation.id, reservation.spooled);
      this.storeUp();
      this.options.alerts?.observe(new Map(reservation.charges.map((c) => [c.budget.id, c.budget])), standings);
    } catch (err) {
      // The reservation expires on its own; the spend is in the ledger, which reseeds lost counters.
      // With a spool, the hold stays open there and the next start settles it.
      this.options.log.error({ err, callId: reservation.id }, 'budget settle failed; the reservation will expire');
    }
  }

  /** The standing of every charge, seeding unknown counters (quotes; nothing is reserved). */
  async standings(charges: readonly BudgetCharge[]): Promise<BudgetStanding[]> {
    const found: BudgetStanding[] = [];
    for (const charge of charges) {
      let standing = await this.options.store.standing(charge);
      if (!standing) {
        await this.seed([charge]);
        standing = await this.options.store.standing(charge);
      }
      if (standing) found.push(standing);
    }
    return found;
  }

  private async withSeeding(attempt: () => Promise<ReserveOutcome>): Promise<ReserveOutcome> {
    let outcome = await attempt();
    for (let i = 1; i < SEED_ATTEMPTS && !('standings' in outcome); i++) {
      await this.seed(outcome.unseeded);
      outcome = await attempt();
    }
    return outcome;
  }

  private async seed(charges: readonly BudgetCharge[]): Promise<void> {
    await this.options
      .beforeSeed?.()
      .catch((err: unknown) => this.options.log.warn({ err }, 'ledger flush before seeding failed'));
    for (const charge of charges) {
      const spent = await this.options.ledgerSpend(charge);
      await this.options.store.seed(charge, spent);
      this.options.log.info(
        { budget: charge.budget.id, window: charge.windowKey, spentMicros: spent, store: this.options.store.kind },
        'budget counter seeded from the ledger',
      );
    }
  }

  private storeDown(charges: readonly BudgetCharge[], err: unknown): Admission {
    const error = err instanceof Error ? err : new Error(String(err));
    const now = this.options.clock.wallNow();
    if (this.storeDownSince === 0 || now - this.storeDownSince > 10_000) {
      this.options.log.error({ err: error, store: this.options.store.kind }, 'budget store unavailable');
      this.storeDownSince = now;
    }
    if (charges.every((c) => c.budget.failOpen)) return { admitted: true, reservation: null, softOver: [] };
    return { admitted: false, reason: 'store_unavailable', error };
  }

  private storeUp(): void {
    if (this.storeDownSince !== 0)
      this.options.log.info({ store: this.options.store.kind }, 'budget store available again');
    this.storeDownSince = 0;
  }
}
