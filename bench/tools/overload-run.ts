// Closed-loop load that tells admitted calls from shed ones: `conc` connections, each sending
// its next JSON chat request as soon as the previous answer has ended, for `durationS` after
// `warmupS`. Latency (hrtime, until the whole body is read) is kept apart by status: 200
// (admitted), 503 with `code: overloaded` (shed), anything else. wrk and autocannon only give
// one latency distribution for all answers, which is why this exists.
//
// Input: env OVERLOAD_ARGS = JSON {url, model, conc, durationS, warmupS, key}.
// Output: one JSON object on stdout (see `Result`).
import { Pool } from 'undici';
import { percentile } from '../lib/stats.js';
import { CHAT_PATH, chatBody, requestHeaders } from '../lib/wire.js';

interface Args {
  url: string;
  model: string;
  conc: number;
  durationS: number;
  warmupS: number;
  /** The virtual key of the overload row's Tollgate. */
  key: string;
}

export interface Latencies {
  n: number;
  perS: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

export interface Result {
  conc: number;
  durationS: number;
  admitted: Latencies;
  shed: Latencies;
  /** Answers that were neither 200 nor 503 `overloaded`, by status. */
  other: Record<string, number>;
  socketErrors: number;
  /** Shed answers without `retry-after`. */
  shedWithoutRetryAfter: number;
}

const args = JSON.parse(process.env.OVERLOAD_ARGS ?? '{}') as Args;
const body = chatBody(false, args.model);
const headers = requestHeaders(args.key);
const pool = new Pool(args.url, { connections: args.conc, pipelining: 1, keepAliveTimeout: 60_000 });

const admitted: number[] = [];
const shed: number[] = [];
const other: Record<string, number> = {};
let socketErrors = 0;
let shedWithoutRetryAfter = 0;

const t0 = performance.now();
const measureFrom = t0 + args.warmupS * 1000;
const end = measureFrom + args.durationS * 1000;

async function worker(): Promise<void> {
  while (performance.now() < end) {
    const start = process.hrtime.bigint();
    try {
      const res = await pool.request({ path: CHAT_PATH, method: 'POST', headers, body });
      const text = await res.body.text();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (performance.now() < measureFrom) continue;
      if (res.statusCode === 200) admitted.push(ms);
      else if (res.statusCode === 503 && text.includes('"code":"overloaded"')) {
        shed.push(ms);
        if (res.headers['retry-after'] === undefined) shedWithoutRetryAfter++;
      } else other[res.statusCode] = (other[res.statusCode] ?? 0) + 1;
    } catch {
      if (performance.now() >= measureFrom) socketErrors++;
    }
  }
}

function latencies(xs: number[]): Latencies {
  xs.sort((a, b) => a - b);
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    n: xs.length,
    perS: Math.round(xs.length / args.durationS),
    p50_ms: round(percentile(xs, 50, true)),
    p99_ms: round(percentile(xs, 99, true)),
    max_ms: round(xs.length ? xs[xs.length - 1]! : null),
  };
}

await Promise.all(Array.from({ length: args.conc }, worker));
await pool.close();
const result: Result = {
  conc: args.conc,
  durationS: args.durationS,
  admitted: latencies(admitted),
  shed: latencies(shed),
  other,
  socketErrors,
  shedWithoutRetryAfter,
};
console.log(JSON.stringify(result));
