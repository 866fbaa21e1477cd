/**
 * What the resilience stack (breaker → retry → attempt → timeout → first-chunk, and the router's
 * ordering and bookkeeping) costs on the happy path. One process, loopback: a canned upstream, and
 * two gateway servers over the same providers — one with the stack as built, one with the
 * foundation's bare path (first deployment, provider call, nothing else). Both run the settle
 * policy with no observers, so ledger and log costs are left out of both.
 *
 *   node --import tsx bench/resilience-overhead.ts            # 5 × 3,000 sequential requests per variant, then c=32
 *   ROUNDS=9 N=5000 node --import tsx bench/resilience-overhead.ts
 *
 * Sequential requests run in batches of 100 that alternate between the variants, so drift from
 * other work on the machine hits both alike; the report gives medians over batches, of wall time
 * and of this process's CPU time per request (client, gateway and upstream share the process, so
 * the CPU difference is the stack's cost). The c=32 rounds alternate too.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Pool } from 'undici';
import { openGateway } from '../src/gateway.js';
import { toGatewayError } from '../src/core/errors.js';
import { compose, type Handler } from '../src/core/pipeline.js';
import { DeploymentStates } from '../src/resilience/deployment-state.js';
import { attempt } from '../src/policies/attempt.js';
import { breaker } from '../src/policies/breaker.js';
import { firstChunk } from '../src/policies/first-chunk.js';
import { retry } from '../src/policies/retry.js';
import { settle } from '../src/policies/settle.js';
import { timeout } from '../src/policies/timeout.js';
import { createProvider } from '../src/providers/create-provider.js';
import type { Provider } from '../src/providers/types.js';
import { invokeProvider } from '../src/router/invoke-provider.js';
import { routeToDeployment } from '../src/router/route.js';
import { serveGateway } from '../src/server/app.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = Number(process.env.N ?? 3_000);
const CONCURRENT_N = Number(process.env.CONCURRENT_N ?? 6_000);

const reply = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Rhine, Danube, Loire.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 14, completion_tokens: 7, total_tokens: 21 },
  }),
);
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': reply.length }).end(reply),
  );
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;

const config = {
  storage: { url: 'sqlite::memory:' },
  ledger: { enabled: false },
  log: { level: 'silent' as const },
  providers: { up: { type: 'openai' as const, baseUrl: upstreamUrl } },
  models: { chat: { deployments: [{ id: 'up', provider: 'up', model: 'gpt-4o-mini' }] } },
};
const gateway = await openGateway({ config, logger: pino({ level: 'silent' }) });
const providers = new Map<string, Provider>([
  ['up', createProvider('up', gateway.config.providers.up!, gateway.clock)],
]);

// The stack as built (the gateway's own composition, minus observers).
// STACK=breaker,retry (any subset) measures part of the stack; default: all of it.
const only = (process.env.STACK ?? '').split(',').filter(Boolean);
const states = new DeploymentStates(gateway.config, gateway.models, gateway.clock, pino({ level: 'silent' }));
const provider = providers.get('up')!;
states.buildChains((runtime) =>
  compose(
    ...[breaker(runtime), retry(runtime), attempt(runtime), timeout(runtime), firstChunk()].filter(
      (p) => only.length === 0 || only.includes(p.name),
    ),
  )(invokeProvider(provider, runtime.deployment)),
);
const withStack = compose(settle([]))(routeToDeployment(gateway.models, { states }));

// The foundation's path: first deployment, one attempt record, the provider.
const bareRoute: Handler = async (call, ctx) => {
  const alias = gateway.models.resolve(call.request.model, call.kind === 'embeddings' ? 'embeddings' : 'chat');
  const deployment = alias.deployments[0]!;
  ctx.record.deployment = deployment;
  const started = ctx.clock.now();
  try {
    const result = await invokeProvider(provider, deployment)(call, ctx);
    ctx.record.attempts.push({
      deployment: deployment.id,
      provider: deployment.provider,
      outcome: 'ok',
      status: 200,
      latencyMs: ctx.clock.now() - started,
    });
    ctx.responseHeaders['x-tollgate-deployment'] = deployment.id;
    return result;
  } catch (err) {
    throw toGatewayError(err);
  }
};
const withoutStack = compose(settle([]))(bareRoute);

async function serve(handle: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = serveGateway({ ...gateway, handle });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`,
    close: () => server.app.close(),
  };
}
const variants = { stack: await serve(withStack), bare: await serve(withoutStack) };
const body = JSON.stringify({
  model: 'chat',
  messages: [{ role: 'user', content: 'Name three rivers.' }],
  max_tokens: 64,
});

async function run(url: string, requests: number, concurrency: number): Promise<number> {
  const pool = new Pool(url, { connections: concurrency });
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < requests) {
        issued++;
        const res = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  return elapsed;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs `requests` sequential requests; returns wall and CPU (this process: client, gateway and upstream) µs per request. */
async function batch(url: string, pool: Pool, requests: number): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    const res = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${url}: status ${res.statusCode}`);
  }
  const wall = ((performance.now() - started) * 1_000) / requests;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / requests };
}

// Warm-up: JIT, pools.
await run(variants.stack.url, 2_000, 4);
await run(variants.bare.url, 2_000, 4);

// Sequential: small batches, alternating variants, so load from other work on the machine hits both alike.
const BATCH = 100;
const pools = {
  stack: new Pool(variants.stack.url, { connections: 1 }),
  bare: new Pool(variants.bare.url, { connections: 1 }),
};
const sequential: Record<'stack' | 'bare', { wall: number; cpu: number }[]> = { stack: [], bare: [] };
for (let i = 0; i < (ROUNDS * N) / BATCH; i++) {
  const order: ('stack' | 'bare')[] = i % 2 === 0 ? ['stack', 'bare'] : ['bare', 'stack'];
  for (const name of order) sequential[name].push(await batch(variants[name].url, pools[name], BATCH));
}
await pools.stack.close();
await pools.bare.close();

const concurrent: Record<'stack' | 'bare', number[]> = { stack: [], bare: [] };
const concurrentCpu: Record<'stack' | 'bare', number[]> = { stack: [], bare: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order: ('stack' | 'bare')[] = round % 2 === 0 ? ['stack', 'bare'] : ['bare', 'stack'];
  for (const name of order) {
    const cpu = process.cpuUsage();
    concurrent[name].push((CONCURRENT_N / (await run(variants[name].url, CONCURRENT_N, 32))) * 1_000);
    const used = process.cpuUsage(cpu);
    concurrentCpu[name].push((used.user + used.system) / CONCURRENT_N);
  }
}

const pick = (name: 'stack' | 'bare', key: 'wall' | 'cpu'): number => median(sequential[name].map((b) => b[key]));
const [wallStack, wallBare, cpuStack, cpuBare] = [
  pick('stack', 'wall'),
  pick('bare', 'wall'),
  pick('stack', 'cpu'),
  pick('bare', 'cpu'),
];
const rpsStack = median(concurrent.stack);
const rpsBare = median(concurrent.bare);
const pct = (a: number, b: number): string => `${((100 * (a - b)) / b).toFixed(1)} %`;
console.log(
  `stack: ${['breaker', 'retry', 'attempt', 'timeout', 'first-chunk'].filter((n) => only.length === 0 || only.includes(n)).join(' → ')}`,
);
console.log(
  `resilience stack overhead on the happy path (loopback, one process, medians; ${sequential.stack.length} batches of ${BATCH})`,
);
console.log(
  `  c=1 wall: bare ${wallBare.toFixed(1)} µs/req, stack ${wallStack.toFixed(1)} µs/req: +${(wallStack - wallBare).toFixed(1)} µs (${pct(wallStack, wallBare)})`,
);
console.log(
  `  c=1 CPU:  bare ${cpuBare.toFixed(1)} µs/req, stack ${cpuStack.toFixed(1)} µs/req: +${(cpuStack - cpuBare).toFixed(1)} µs (${pct(cpuStack, cpuBare)})  [client + gateway + upstream]`,
);
console.log(
  `  c=32: bare ${rpsBare.toFixed(0)} req/s, stack ${rpsStack.toFixed(0)} req/s (${pct(rpsStack, rpsBare)}; ${ROUNDS} rounds of ${CONCURRENT_N})`,
);
const [cpu32Stack, cpu32Bare] = [median(concurrentCpu.stack), median(concurrentCpu.bare)];
console.log(
  `  c=32 CPU: bare ${cpu32Bare.toFixed(1)} µs/req, stack ${cpu32Stack.toFixed(1)} µs/req: +${(cpu32Stack - cpu32Bare).toFixed(1)} µs (${pct(cpu32Stack, cpu32Bare)})`,
);

await variants.stack.close();
await variants.bare.close();
await Promise.all([...providers.values()].map((p) => (p.close ? p.close() : Promise.resolve())));
await gateway.close();
upstream.close();
