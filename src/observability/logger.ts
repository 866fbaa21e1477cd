import pino, { type Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log object. */
export const REDACT_PATHS = [
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.apiKey',
  '*.token',
  '*.password',
  'apiKey',
  'authorization',
];

export interface LoggerOptions {
  level: string;
  /** `auto`: pretty when stdout is a terminal. */
  format: 'auto' | 'json' | 'pretty';
  /** Write somewhere else than stdout (tests). */
  destination?: pino.DestinationStream;
}

/** Bytes the log destination gathers before it writes (about ten access lines): one `write` per batch, not per line. */
export const LOG_BUFFER_BYTES = 4_096;
/** Longest a line waits in that buffer when traffic is light. */
export const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * The production destination: asynchronous and buffered (sonic-boom), so writing a line costs
 * the request path a string append; written out at `LOG_BUFFER_BYTES` or every
 * `LOG_FLUSH_INTERVAL_MS`. Flush it before a graceful exit (`flushLog`); on any exit, fatal
 * ones included, pino writes what is left synchronously (its `exit` hook for such destinations).
 */
export function bufferedDestination(dest: number | string = 1): pino.DestinationStream {
  return pino.destination({
    ...(typeof dest === 'number' ? { fd: dest } : { dest }),
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
  });
}

/**
 * Resolves once every line logged so far is written (or after `timeoutMs`, so a stuck stdout
 * cannot hold the exit). For the graceful stop, before `process.exit`.
 */
export function flushLog(log: Logger, timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    try {
      log.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/**
 * A crash still leaves its reason in the log: an uncaught exception or unhandled rejection is
 * logged as `fatal` before Node's own handling (stack on stderr, exit 1), and the buffered lines
 * are written on that exit. A monitor only: it changes nothing about how the process dies.
 */
export function logFatalExits(log: Logger): void {
  process.on('uncaughtExceptionMonitor', (err, origin) => log.fatal({ err, origin }, 'uncaught exception: exiting'));
}

/**
 * The process logger: JSON lines (pino) in production, human-readable on a terminal. Secrets
 * are redacted by path, and `Secret` values print as `[redacted]` on their own.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'tollgate' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(base, options.destination);
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service,pid,hostname' },
      },
    });
  }
  return pino(base, bufferedDestination());
}

export type { Logger };
