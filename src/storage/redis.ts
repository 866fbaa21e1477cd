import type { Logger } from 'pino';
import type { RedisClientType } from 'redis';

/** The few Redis operations Tollgate uses, behind a small interface (the client is loaded lazily). */
export interface RedisConnection {
  /** Runs a Lua script (EVALSHA, falling back to EVAL once when Redis does not know it yet). */
  eval(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Raw command, for tests and tools (`['FLUSHDB']`, `['DEL', key]`). */
  command(args: readonly string[]): Promise<unknown>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export interface RedisOptions {
  url: string;
  password?: string;
  /** A command not answered within this time fails (Redis counts as down). */
  commandTimeoutMs: number;
  log: Logger;
}

/**
 * Connects to Redis with node-redis, loaded only when Redis is configured. Commands fail fast
 * while disconnected (no offline queue: a budget check must not wait for a reconnect), and any
 * command slower than `commandTimeoutMs` is failed; the client reconnects in the background.
 *
 * @example const redis = await connectRedis({ url: 'redis://127.0.0.1:6379', commandTimeoutMs: 500, log });
 */
export async function connectRedis(options: RedisOptions): Promise<RedisConnection> {
  const { createClient } = await import('redis');
  const client = createClient({
    url: options.url,
    ...(options.password !== undefined ? { password: options.password } : {}),
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.max(1_000, options.commandTimeoutMs),
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
    },
  }) as unknown as RedisClientType;
  let lastError = '';
  client.on('error', (err: Error) => {
    // Reconnection is automatic; log each distinct failure once rather than every retry.
    if (err.message !== lastError) options.log.warn({ err }, 'redis connection error');
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) options.log.info('redis connection restored');
    lastError = '';
  });
  await withTimeout(client.connect(), Math.max(2_000, options.commandTimeoutMs), 'connect');

  const send = (args: readonly string[]): Promise<unknown> =>
    withTimeout(client.sendCommand([...args]), options.commandTimeoutMs, args[0] ?? 'command');

  return {
    async eval(script, keys, args) {
      const tail = [String(keys.length), ...keys, ...args.map(String)];
      try {
        return await send(['EVALSHA', script.sha, ...tail]);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return send(['EVAL', script.source, ...tail]);
      }
    },
    command: send,
    async ping() {
      await send(['PING']);
    },
    async close() {
      await client.close().catch(() => client.destroy());
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
