import { loadConfig } from '../config/load.js';
import { redactUrlPassword } from '../config/redact-url.js';
import { createGateway } from '../gateway.js';
import { createLogger, flushLog, logFatalExits } from '../observability/logger.js';
import { createHttpServer } from '../server/app.js';
import { onShutdownSignals } from './shutdown-signals.js';

export interface ServeOptions {
  config?: string;
  port?: string;
  host?: string;
}

/** `tollgate serve`: load config, build the gateway, listen, drain on SIGTERM/SIGINT, exit 0 (a second signal: exit 1 now). */
export async function serve(options: ServeOptions): Promise<void> {
  const overrides = {
    server: {
      ...(options.port !== undefined ? { port: Number(options.port) } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
    },
  };
  const loaded = await loadConfig({ ...(options.config ? { path: options.config } : {}), overrides });
  const { config } = loaded;
  const log = createLogger({ level: config.log.level, format: config.log.format });
  logFatalExits(log);
  const gateway = await createGateway({ config, logger: log });
  const { app, lifecycle } = createHttpServer(gateway);

  for (const note of loaded.notes) log.info(note);
  const address = await app.listen({ port: config.server.port, host: config.server.host });
  log.info(
    {
      address,
      config: loaded.source.embedded ? 'embedded default' : loaded.source.files,
      storage: redactUrlPassword(config.storage.url),
      models: gateway.models.list().map((m) => m.name),
    },
    `Tollgate listening on ${address}`,
  );

  onShutdownSignals({
    drain(signal) {
      log.info({ signal }, 'shutdown requested');
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
    },
    exitNow(signal) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1); // pino writes the buffered lines synchronously on exit
    },
  });
}
