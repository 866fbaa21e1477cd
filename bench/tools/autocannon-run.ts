// One autocannon run in its own process (the fallback load generator when wrk is not installed).
// Closed loop like wrk: `connections` connections, each sending the next request as soon as the
// previous answer ends. Latency is recorded here from autocannon's per-response timings
// (float ms), because autocannon's own histogram has 1 ms resolution.
//
// Input: env AC_ARGS = JSON {url, connections, durationS, stream, model, key, bodyBytes, timeoutS}
// (url may carry a path prefix, as the long-stream variant's does).
// Output: one JSON line on stdout, the same fields as bench/chat.lua prints for wrk.
import autocannon from 'autocannon';
import { CHAT_PATH, chatBody, requestHeaders } from '../lib/wire.js';
import { percentile } from '../lib/stats.js';

interface Args {
  url: string;
  connections: number;
  durationS: number;
  stream: boolean;
  model?: string;
  key: string;
  bodyBytes?: number;
  timeoutS?: number;
}

const args = JSON.parse(process.env.AC_ARGS ?? '{}') as Args;
const latencies: number[] = [];
let ok = 0;
let non2xx = 0;
const t0 = process.hrtime.bigint();

const instance = autocannon(
  {
    url: args.url + CHAT_PATH,
    method: 'POST',
    headers: requestHeaders(args.key),
    body: chatBody(args.stream, args.model, args.bodyBytes),
    connections: args.connections,
    duration: args.durationS,
    timeout: args.timeoutS ?? 10,
    pipelining: 1,
  },
  (err, result) => {
    const durationUs = Number(process.hrtime.bigint() - t0) / 1000;
    if (err) {
      console.error(err);
      process.exit(1);
    }
    latencies.sort((a, b) => a - b);
    const us = (ms: number | null): number => Math.round((ms ?? 0) * 1000);
    const mean = latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : 0;
    const requests = ok + non2xx;
    console.log(
      JSON.stringify({
        requests,
        duration_us: Math.round(durationUs),
        rps: requests / (durationUs / 1e6),
        mean_us: us(mean),
        p50_us: us(percentile(latencies, 50, true)),
        p90_us: us(percentile(latencies, 90, true)),
        p99_us: us(percentile(latencies, 99, true)),
        max_us: us(latencies.at(-1) ?? 0),
        err_connect: 0,
        err_read: result.errors - result.timeouts,
        err_write: 0,
        err_status: non2xx,
        err_timeout: result.timeouts,
      }),
    );
  },
);

instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
  if (statusCode >= 200 && statusCode < 300) {
    ok++;
    latencies.push(responseTimeMs);
  } else non2xx++;
});
