import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { openDatabase } from '../storage/database.js';
import { onShutdownSignals } from './shutdown-signals.js';

/** The environment variable that tells a forked worker its slot (1…N); also its `x-tollgate-worker`. */
export const WORKER_ENV = 'TOLLGATE_WORKER';

/** First restart delay of a worker that died; doubles per consecutive death, capped at `RESTART_MAX_MS`. */
export const RESTART_BASE_MS = 200;
export const RESTART_MAX_MS = 30_000;
/** A worker that lived this long before dying restarts at the base delay again. */
const STABLE_AFTER_MS = 30_000;

/** This process's worker slot when it is a cluster worker, else null. */
export function workerSlot(): number | null {
  if (!cluster.isWorker) return null;
  const slot = Number(process.env[WORKER_ENV]);
  return Number.isInteger(slot) && slot > 0 ? slot : cluster.worker!.id;
}

interface Slot {
  worker: Worker | null;
  startedAt: number;
  listening: boolean;
  /** Consecutive deaths (reset once a worker lived `STABLE_AFTER_MS`). */
  deaths: number;
  restartTimer: NodeJS.Timeout | null;
}

/**
 * `tollgate serve --workers N`, the primary: migrates the database once, forks N workers that
 * each run the whole gateway on the shared port (node:cluster hands them the connections; the
 * primary serves nothing), and supervises them:
 * - a worker that dies after start-up is forked again in its slot, after a backoff (logged);
 *   one that dies before every worker first listened stops the cluster (exit 1): a broken
 *   config or a taken port must not become a restart loop;
 * - SIGTERM or SIGINT: every worker gets SIGTERM and drains like a single process (readiness
 *   503, in-flight calls and streams finish); the primary exits 0 once all exited cleanly.
 *   A second signal (past the repeat window) is passed on, so every worker exits now, and so
 *   does the primary (1).
 *
 * Resolves once the workers are forked; the process exits from the signal path.
 */
export async function runPrimary(options: { config: Config; log: Logger; workers: number }): Promise<void> {
  const { config, log, workers } = options;
  const now = (): number => performance.now();
  // Migrations run here, once, before any worker opens the database (kysely takes no lock on
  // SQLite: workers migrating the same file at once could each try the same migration).
  const database = await openDatabase({
    url: config.storage.url,
    schema: config.storage.schema,
    ...(config.storage.password ? { password: config.storage.password.reveal() } : {}),
    log,
  });
  await database.close();

  const slots = new Map<number, Slot>();
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let failed = false;

  const fork = (slot: number): void => {
    const state = slots.get(slot)!;
    state.restartTimer = null;
    const worker = cluster.fork({ [WORKER_ENV]: String(slot) });
    state.worker = worker;
    state.startedAt = now();
    state.listening = false;
    worker.on('listening', (address) => {
      state.listening = true;
      log.info({ worker: slot, pid: worker.process.pid }, 'worker listening');
      if (phase === 'starting' && [...slots.values()].every((s) => s.listening)) {
        phase = 'running';
        const host = address.address ?? config.server.host;
        log.info(
          { address: `http://${host}:${address.port}`, workers, pid: process.pid },
          `Tollgate listening on http://${host}:${address.port} with ${workers} workers`,
        );
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => onExit(slot, worker, code, signal));
  };

  const onExit = (slot: number, worker: Worker, code: number | null, signal: string | null): void => {
    const state = slots.get(slot)!;
    if (state.worker !== worker) return;
    state.worker = null;
    const pid = worker.process.pid;
    if (phase === 'stopping') {
      if (code !== 0) failed = true;
      log.info({ worker: slot, pid, code, signal }, 'worker exited');
      if ([...slots.values()].every((s) => s.worker === null)) finish();
      return;
    }
    if (phase === 'starting') {
      log.error({ worker: slot, pid, code, signal }, 'worker failed to start: stopping every worker');
      failed = true;
      stop('SIGTERM');
      return;
    }
    const lived = now() - state.startedAt;
    state.deaths = lived >= STABLE_AFTER_MS ? 1 : state.deaths + 1;
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (state.deaths - 1));
    log.warn(
      { worker: slot, pid, code, signal, livedMs: Math.round(lived), restartInMs: delayMs, deaths: state.deaths },
      'worker died unexpectedly: restarting it',
    );
    state.restartTimer = setTimeout(() => fork(slot), delayMs);
  };

  const finish = (): void => {
    log.info({ workers }, failed ? 'shutdown complete (a worker failed)' : 'shutdown complete');
    log.flush?.();
    setTimeout(() => process.exit(failed ? 1 : 0), 50).unref();
  };

  /** Asks every live worker to stop (each drains on its own); restarts still pending are dropped. */
  const stop = (signal: NodeJS.Signals): void => {
    phase = 'stopping';
    for (const state of slots.values()) {
      if (state.restartTimer) clearTimeout(state.restartTimer);
      state.restartTimer = null;
      const pid = state.worker?.process.pid;
      if (pid !== undefined && state.worker?.process.exitCode === null) signalProcess(pid, signal);
    }
    if ([...slots.values()].every((s) => s.worker === null)) finish();
  };

  onShutdownSignals({
    drain(signal) {
      log.info({ signal, workers }, 'shutdown requested: draining every worker');
      stop('SIGTERM');
    },
    exitNow(signal) {
      log.warn({ signal }, 'second signal: every worker exits now');
      failed = true;
      for (const state of slots.values()) {
        const pid = state.worker?.process.pid;
        if (pid !== undefined) signalProcess(pid, signal);
      }
      log.flush?.();
      setTimeout(() => process.exit(1), 3_000).unref();
    },
  });

  for (let slot = 1; slot <= workers; slot++) {
    slots.set(slot, { worker: null, startedAt: 0, listening: false, deaths: 0, restartTimer: null });
    fork(slot);
  }
}

/** Signals `pid`, ignoring a process that is already gone. */
function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
