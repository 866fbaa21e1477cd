import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { openDatabase } from '../storage/database.js';
import { onShutdownSignals } from './shutdown-signals.js';

/** The environment variable that tells a forked worker its slot (1…N); also its `x-tollgate-worker`. */
export const WORKER_ENV = 'TOLLGATE_WORKER';

/**
 * What the primary tells its workers, over the cluster's IPC channel rather than by signal: a
 * Ctrl-C also reaches every worker straight from the terminal, and a SIGTERM from the primary
 * arriving after the worker's 500 ms repeat window (a loaded host) would read as a second signal.
 */
export const DRAIN_MESSAGE = 'tollgate:drain';
export const EXIT_NOW_MESSAGE = 'tollgate:exit-now';

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
 * - SIGTERM or SIGINT: every worker is told to drain (`DRAIN_MESSAGE`) and does so like a single
 *   process (readiness 503, in-flight calls and streams finish); the primary exits 0 once all
 *   exited cleanly. A second signal (past the repeat window): every worker is told to exit now,
 *   and the primary exits 1.
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
    // A failed IPC send to a worker that is going away; its exit is handled above.
    worker.on('error', (err) => log.warn({ err, worker: slot, pid: worker.process.pid }, 'worker channel error'));
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
      stop(DRAIN_MESSAGE);
      return;
    }
    const lived = now() - state.startedAt;
    state.deaths = lived >= STABLE_AFTER_MS ? 1 : state.deaths + 1;
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (state.deaths - 1));
    log.warn(
      { worker: slot, pid, code, signal, livedMs: Math.round(lived), restartInMs: delayMs, deaths: state.deaths },
      'worker exited unexpectedly: restarting it',
    );
    state.restartTimer = setTimeout(() => fork(slot), delayMs);
  };

  const finish = (): void => {
    log.info({ workers }, failed ? 'shutdown complete (a worker failed)' : 'shutdown complete');
    log.flush?.();
    setTimeout(() => process.exit(failed ? 1 : 0), 50).unref();
  };

  /** Asks every live worker to drain (each on its own) or to exit now; restarts still pending are dropped. */
  const stop = (message: typeof DRAIN_MESSAGE | typeof EXIT_NOW_MESSAGE): void => {
    phase = 'stopping';
    for (const state of slots.values()) {
      if (state.restartTimer) clearTimeout(state.restartTimer);
      state.restartTimer = null;
      const worker = state.worker;
      if (!worker || worker.process.exitCode !== null) continue;
      // A worker still starting has no handler yet (nor a channel, if it is gone): a signal does it.
      if (!worker.isConnected() || !worker.send(message)) signalProcess(worker.process.pid!, 'SIGTERM');
    }
    if ([...slots.values()].every((s) => s.worker === null)) finish();
  };

  onShutdownSignals({
    drain(signal) {
      log.info({ signal, workers }, 'shutdown requested: draining every worker');
      stop(DRAIN_MESSAGE);
    },
    exitNow(signal) {
      log.warn({ signal }, 'second signal: every worker exits now');
      failed = true;
      stop(EXIT_NOW_MESSAGE);
      // A worker too busy to read its channel is not waited for.
      setTimeout(() => {
        for (const state of slots.values()) {
          const pid = state.worker?.process.pid;
          if (pid !== undefined) signalProcess(pid, 'SIGKILL');
        }
        log.flush?.();
        process.exit(1);
      }, 3_000).unref();
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
