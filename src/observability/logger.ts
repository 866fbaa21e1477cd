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
  return pino(base, pino.destination({ sync: false }));
}

export type { Logger };
