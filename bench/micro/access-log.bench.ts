// What the access log costs each call: one line built and handed to the process logger's
// destination (here /dev/null, through the same buffered destination as production). CPU counts
// every thread of the process (the destination writes from libuv's pool). Not a test.
//   node --import tsx bench/micro/access-log.bench.ts [lines=200000]
import { accessLog } from '../../src/observability/access-log.js';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { bufferedDestination, createLogger } from '../../src/observability/logger.js';
import type { CallContext } from '../../src/core/context.js';

const n = Number(process.argv[2] ?? 200_000);
const summary: CallSummary = {
  requestId: '6f1c2a84-7c0e-4a51-9a1b-2f5c3d8e9b10',
  callId: 'call_0123456789abcdef0123456789abcdef',
  startedAt: Date.now(),
  alias: 'fast',
  provider: 'openai',
  deployment: 'openai-eu',
  upstreamModel: 'gpt-4o-mini',
  stream: false,
  status: 200,
  outcome: 'ok',
  errorCode: null,
  errorMessage: null,
  inputTokens: 31,
  outputTokens: 64,
  cachedTokens: 0,
  latencyMs: 1.234,
  ttftMs: 0.987,
  attempts: 1,
  fallbackUsed: false,
  tenant: 'acme',
  keyId: 'key_1',
  feature: null,
  user: null,
  tags: [],
  estimated: false,
  costMicros: 42,
  priceVersion: '2026-01-01',
};
const ctx = { record: { attempts: [], error: null } } as unknown as CallContext;
const observe = accessLog(
  createLogger({ level: 'info', format: 'json', destination: bufferedDestination('/dev/null') }),
);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** 100 calls per turn of the event loop, so the destination's writes run as they would under load. */
async function calls(count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    for (let j = 0; j < 100; j++) observe(summary, ctx);
    await turn();
  }
}
await calls(20_000);
const cpu = process.cpuUsage();
const started = process.hrtime.bigint();
await calls(n);
const wall = Number(process.hrtime.bigint() - started) / n / 1_000;
const used = process.cpuUsage(cpu);
console.log(
  `access log: ${wall.toFixed(2)} µs per line, CPU ${((used.user + used.system) / n).toFixed(2)} µs (${n} lines)`,
);
