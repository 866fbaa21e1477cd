import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { connectRedis, type RedisConnection } from '../../src/storage/redis.js';

/** The Redis used by `*.int.test.ts`; `TOLLGATE_TEST_REDIS_URL` overrides it. */
export const TEST_REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let probe: Promise<string | null> | undefined;

export interface RedisTestSpace {
  url: string;
  /** A fresh `tg_test:<random>:` prefix; its keys are deleted when the test ends. */
  prefix: string;
  /** A connection of its own (closed afterwards), for inspecting or wiping keys. */
  redis: RedisConnection;
}

/**
 * Runs `fn` with a random key prefix on the test Redis and deletes those keys afterwards. When
 * Redis cannot be reached the test is skipped with the reason, unless `CI=true`, where it fails:
 * CI must never pass by skipping (mirrors `withPostgresSchema`).
 *
 * @example
 * it('reserves', (t) => withRedis(t, async ({ url, prefix }) => { ... }));
 */
export async function withRedis(t: TestContext, fn: (space: RedisTestSpace) => Promise<void>): Promise<void> {
  const space = await openRedisTestSpace(t);
  if (!space) return;
  try {
    await fn(space);
  } finally {
    await space.close();
  }
}

/**
 * The same as `withRedis`, for tests that hand the space to something else: returns null when
 * the test was skipped; `close()` deletes the prefix's keys and the connection.
 */
export async function openRedisTestSpace(
  t: TestContext,
): Promise<(RedisTestSpace & { close(): Promise<void> }) | null> {
  const unreachable = await (probe ??= unreachableReason());
  if (unreachable !== null) {
    const message = `Redis not reachable at ${TEST_REDIS_URL}: ${unreachable}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: integration tests may not skip)`);
    t.skip(message);
    return null;
  }
  const prefix = `tg_test:${randomBytes(6).toString('hex')}:`;
  const redis = await connectRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 2_000, log: pino({ level: 'silent' }) });
  return {
    url: TEST_REDIS_URL,
    prefix,
    redis,
    async close() {
      await deleteKeys(redis, prefix).catch(() => undefined);
      await redis.close();
    },
  };
}

/** Deletes every key under `prefix` (SCAN, not KEYS: safe on a shared Redis). */
export async function deleteKeys(redis: RedisConnection, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = (await redis.command(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '500'])) as [
      string,
      string[],
    ];
    cursor = next;
    if (keys.length > 0) deleted += Number(await redis.command(['DEL', ...keys]));
  } while (cursor !== '0');
  return deleted;
}

async function unreachableReason(): Promise<string | null> {
  try {
    const redis = await connectRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 1_500, log: pino({ level: 'silent' }) });
    try {
      await redis.ping();
    } finally {
      await redis.close();
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
