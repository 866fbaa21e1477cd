// Gateway throughput with and without budgets: req/s and p99 through the real HTTP server (a
// closed loop of undici clients), mock upstream in-process (no latency), one budget on every call
// with the ledger on. Not a test.
//   node --import tsx bench/micro/budget-gateway.bench.ts [seconds=8] [connections=32]
// Redis: TOLLGATE_BENCH_REDIS_URL (default redis://127.0.0.1:6379) under a throwaway prefix.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { ConfigInput } from '../../src/config/schema.js';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createGateway } from '../../src/gateway.js';
import { createHttpServer } from '../../src/server/app.js';

const seconds = Number(process.argv[2] ?? 8);
const connections = Number(process.argv[3] ?? 32);
const redisUrl = process.env.TOLLGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello, bench.' }],
  max_tokens: 32,
});

/** A closed loop: `connections` workers each sending the next request as soon as the last answered. */
async function load(url: string, durationS: number): Promise<{ latencies: number[]; errors: number }> {
  const pool = new Pool(url, { connections });
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + durationS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const start = performance.now();
        const res = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.dump();
        if (res.statusCode === 200) latencies.push(performance.now() - start);
        else errors++;
      }
    }),
  );
  await pool.close();
  return { latencies, errors };
}

async function run(name: string, extra: Partial<ConfigInput>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const gateway = await createGateway({
    config: {
      storage: { url: `sqlite:${join(dir, 'ledger.db')}` },
      providers: { mock: { type: 'mock' } },
      models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
      ...extra,
    },
    logger: pino({ level: 'silent' }),
  });
  const server = createHttpServer(gateway);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const gw = {
    url: `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`,
    close: async () => {
      await server.app.close();
      await gateway.close();
    },
  };
  try {
    await load(gw.url, 2); // warm-up
    const { latencies, errors } = await load(gw.url, seconds);
    latencies.sort((a, b) => a - b);
    const at = (p: number): string => latencies[Math.floor((p / 100) * (latencies.length - 1))]!.toFixed(2);
    console.log(
      `${name.padEnd(16)} ${(latencies.length / seconds).toFixed(0).padStart(6)} req/s   p50 ${at(50)} ms   p99 ${at(99)} ms   errors ${errors}`,
    );
  } finally {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const budget = { budgets: { limits: [{ window: 'monthly' as const, limitUsd: 1_000_000 }] } };
await run('no budget', {});
await run('budget, memory', budget);
await run('budget, redis', {
  ...budget,
  redis: { url: redisUrl, keyPrefix: `tg_bench:${randomBytes(4).toString('hex')}:` },
});
