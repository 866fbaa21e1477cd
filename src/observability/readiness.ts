import type { Logger } from 'pino';

/** Resolves when a dependency answers; rejects (with the detail) when it does not. */
export type ReadinessCheck = () => Promise<void>;

/** A check's state, as shown publicly: fixed words, never the dependency's own error text. */
export type CheckState = 'ok' | 'timeout' | 'unreachable';

export interface ReadinessReport {
  ready: boolean;
  /** Each check by name (`storage`, `redis`): `ok`, `timeout` or `unreachable`. */
  checks: Record<string, CheckState>;
}

export interface ReadinessOptions {
  /** Each check must answer within this, or it counts as `timeout`. */
  timeoutMs: number;
  log: Logger;
}

/**
 * Runs every check at once, each time-boxed: a frozen dependency (a stopped PostgreSQL, a Redis
 * that accepts bytes and never answers) gives `timeout` after `timeoutMs` instead of hanging the
 * probe. A check still running from an earlier probe is awaited again rather than started anew,
 * so a frozen database holds one connection for readiness, not one per probe. The error text
 * (which names hosts and ports) is logged when a check's state changes, and never returned.
 *
 * @example
 * const readiness = readinessProbe({ storage: () => database.ping() }, { timeoutMs: 1_000, log });
 * const { ready, checks } = await readiness(); // { ready: false, checks: { storage: 'timeout' } }
 */
export function readinessProbe(
  checks: Record<string, ReadinessCheck>,
  options: ReadinessOptions,
): () => Promise<ReadinessReport> {
  const running = new Map<string, Promise<void>>();
  const last = new Map<string, CheckState>();

  const runOnce = (name: string, check: ReadinessCheck): Promise<void> => {
    let pending = running.get(name);
    if (pending === undefined) {
      pending = Promise.resolve()
        .then(check)
        .finally(() => running.delete(name));
      running.set(name, pending);
    }
    return pending;
  };

  const judge = async (name: string, check: ReadinessCheck): Promise<CheckState> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    let detail: unknown;
    const state = await Promise.race([
      runOnce(name, check).then(
        () => 'ok' as const,
        (err: unknown) => {
          detail = err;
          return 'unreachable' as const;
        },
      ),
      timedOut,
    ]).finally(() => clearTimeout(timer));
    if (last.get(name) !== state) {
      if (state === 'ok') options.log.info({ check: name }, 'readiness check ok');
      else
        options.log.warn(
          { check: name, state, timeoutMs: options.timeoutMs, err: detail },
          `readiness check ${name}: ${state}`,
        );
      last.set(name, state);
    }
    return state;
  };

  return async () => {
    const names = Object.keys(checks);
    const states = await Promise.all(names.map((name) => judge(name, checks[name]!)));
    const report: Record<string, CheckState> = {};
    names.forEach((name, i) => (report[name] = states[i]!));
    return { ready: states.every((s) => s === 'ok'), checks: report };
  };
}
