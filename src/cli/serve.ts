import cluster from 'node:cluster';
import { workerCount } from '../config/check-workers.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { redactUrlPassword } from '../config/redact-url.js';
import { openGateway } from '../gateway.js';
import { createLogger, flushLog, logFatalExits } from '../observability/logger.js';
import { createHttpServer } from '../server/app.js';
import { DRAIN_MESSAGE, EXIT_NOW_MESSAGE, runPrimary, workerSlot } from './cluster.js';
import { onShutdownSignals } from './shutdown-signals.js';

export interface ServeOptions {
  config?: string;
  port?: string;
  host?: string;
  /** A count or `auto` (`server.workers`). */
  workers?: string;
}

/**
 * `tollgate serve`: load config, build the gateway, listen, drain on SIGTERM/SIGINT, exit 0 (a
 * second signal: exit 1 now). With `server.workers` above 1 this process becomes the cluster's
 * primary (cli/cluster.ts) and each worker it forks runs this same command as a worker.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const overrides = {
    server: {
      ...(options.port !== undefined ? { port: Number(options.port) } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
    },
  };
  const loaded = await loadConfig({ ...(options.config ? { path: options.config } : {}), overrides });
  const { config } = loaded;
  const log = createLogger({ level: config.log.level, format: config.log.format });
  logFatalExits(log);
  const slot = workerSlot();
  if (slot !== null) return serveOne(loaded, log.child({ worker: slot }), slot);
  for (const note of loaded.notes) log.info(note);
  const workers = workerCount(config);
  if (workers === 1) return serveOne(loaded, log, null);
  return runPrimary({ config, log, workers });
}

/** One gateway process: alone, or as cluster worker `slot` (which marks its answers `x-tollgate-worker`). */
async function serveOne(
  loaded: LoadedConfig,
  log: ReturnType<typeof createLogger>,
  slot: number | null,
): Promise<void> {
  const { config } = loaded;
  const gateway = await openGateway({ config, logger: log });
  const { app, lifecycle } = createHttpServer(gateway);
  if (slot !== null) {
    // Before fastify's own listener: headers set here are merged into every answer, streams included.
    const id = String(slot);
    app.server.prependListener('request', (_req, res) => res.setHeader('x-tollgate-worker', id));
  }

  const address = await app.listen({ port: config.server.port, host: config.server.host });
  if (slot === null) {
    log.info(
      {
        address,
        config: loaded.source.embedded ? 'embedded default' : loaded.source.files,
        storage: redactUrlPassword(config.storage.url),
        models: gateway.models.list().map((m) => m.name),
      },
      `Tollgate listening on ${address}`,
    );
  }

  let draining = false;
  const drain = (reason: string): void => {
    if (draining) return;
    draining = true;
    log.info({ signal: reason }, 'shutdown requested');
    void (async () => {
      await lifecycle.drain(() => app.close());
      await gateway.close();
      log.info('shutdown complete');
      // Every access line of the drained calls is out before the exit.
      await flushLog(log);
      process.exit(0);
    })().catch((err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  onShutdownSignals({
    drain,
    exitNow(signal) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1); // pino writes the buffered lines synchronously on exit
    },
  });
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (message === DRAIN_MESSAGE) drain('primary');
      if (message === EXIT_NOW_MESSAGE) {
        log.warn('primary: exiting now');
        log.flush?.();
        process.exit(1);
      }
    });
    // A worker whose primary is gone (killed) has no listener left to share: it drains and exits.
    process.once('disconnect', () => drain('primary gone'));
  }
}
