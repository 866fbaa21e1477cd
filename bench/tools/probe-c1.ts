// Concurrency-1 probe: sequential requests, round-robin across the targets so that drift on a
// shared box hits them alike. Per target and mode: total latency; for streams also the time to
// the first SSE `data:` bytes (first byte, TTFB) and to the first frame carrying content (first
// token, TTFT), all measured with hrtime on one keep-alive connection per target and upstream.
//
// Modes: json and sse (zero-delay upstream); sse-paced (the upstream sends its role chunk and
// first content chunk, then pauses: a gateway that holds the first token back until more
// arrives shows up as added TTFT of about the pause); sse-role-paused (the pause comes right
// after the role-only opening chunk, as when a model thinks before its first token: shows
// whether the gateway forwards that opening chunk at once or waits for content).
//
// Input: env PROBE_ARGS = JSON {targets: [{name, variants: {base, paced, rolePaused: {url, model}}}], n, nPaced, warmup, key}.
// Output: one JSON object on stdout: {mode: {target: {n, errors, p50_ms, p99_ms, ttfb_*, ttft_*}}}.
import { Client } from 'undici';
import { CHAT_PATH, chatBody, requestHeaders } from '../lib/wire.js';
import { percentile } from '../lib/stats.js';

interface Endpoint {
  url: string;
  model: string;
}
interface Target {
  name: string;
  variants: { base: Endpoint; paced: Endpoint; rolePaused: Endpoint };
}
interface Args {
  targets: Target[];
  n: number;
  nPaced: number;
  warmup: number;
  /** The bench's virtual key, sent to every target. */
  key: string;
}
export type ProbeMode = 'json' | 'sse' | 'sse-paced' | 'sse-role-paused';

const args = JSON.parse(process.env.PROBE_ARGS ?? '{}') as Args;
const headers = requestHeaders(args.key);
const clients = new Map<string, Client>();
const client = (url: string): Client => {
  let c = clients.get(url);
  if (!c) clients.set(url, (c = new Client(url, { keepAliveTimeout: 60_000, pipelining: 1 })));
  return c;
};

const CONTENT = /"content":"[^"]/;

async function one(
  t: Target,
  mode: ProbeMode,
): Promise<{ status: number; totalUs: number; ttfbUs: number | null; ttftUs: number | null }> {
  const ep =
    mode === 'sse-paced' ? t.variants.paced : mode === 'sse-role-paused' ? t.variants.rolePaused : t.variants.base;
  const stream = mode !== 'json';
  const t0 = process.hrtime.bigint();
  const res = await client(ep.url).request({
    path: CHAT_PATH,
    method: 'POST',
    headers,
    body: chatBody(stream, ep.model),
  });
  let firstByte: bigint | null = null;
  let firstToken: bigint | null = null;
  let buf = '';
  for await (const c of res.body as AsyncIterable<Buffer>) {
    if (!stream || firstToken !== null) continue;
    const now = process.hrtime.bigint();
    buf += c.toString('utf8');
    if (firstByte === null && buf.includes('data:')) firstByte = now;
    // The first complete frame whose delta carries text.
    const frames = buf.split('\n\n');
    frames.pop();
    if (frames.some((f) => f.startsWith('data:') && CONTENT.test(f))) firstToken = now;
  }
  const t1 = process.hrtime.bigint();
  const us = (x: bigint | null): number | null => (x === null ? null : Number(x - t0) / 1000);
  return { status: res.statusCode, totalUs: Number(t1 - t0) / 1000, ttfbUs: us(firstByte), ttftUs: us(firstToken) };
}

const ms = (us: number | null): number | null => (us === null ? null : us / 1000);

async function main(): Promise<void> {
  const out: Record<string, Record<string, Record<string, number | null>>> = {};
  for (const mode of ['json', 'sse', 'sse-paced', 'sse-role-paused'] as ProbeMode[]) {
    const paced = mode === 'sse-paced' || mode === 'sse-role-paused';
    const n = paced ? args.nPaced : args.n;
    if (n <= 0) continue;
    const acc = new Map(
      args.targets.map((t) => [t.name, { total: [] as number[], ttfb: [] as number[], ttft: [] as number[], bad: 0 }]),
    );
    for (const t of args.targets)
      for (let i = 0; i < (paced ? 3 : args.warmup); i++) await one(t, mode).catch(() => undefined);
    for (let i = 0; i < n; i++) {
      for (const t of args.targets) {
        const a = acc.get(t.name)!;
        try {
          const r = await one(t, mode);
          if (r.status !== 200) {
            a.bad++;
            continue;
          }
          a.total.push(r.totalUs);
          if (r.ttfbUs !== null) a.ttfb.push(r.ttfbUs);
          if (r.ttftUs !== null) a.ttft.push(r.ttftUs);
        } catch {
          a.bad++;
        }
      }
    }
    const m: Record<string, Record<string, number | null>> = {};
    for (const t of args.targets) {
      const a = acc.get(t.name)!;
      m[t.name] = {
        n: a.total.length,
        errors: a.bad,
        p50_ms: ms(percentile(a.total, 50)),
        p99_ms: ms(percentile(a.total, 99)),
        ...(mode === 'json'
          ? {}
          : {
              ttfb_p50_ms: ms(percentile(a.ttfb, 50)),
              ttfb_p99_ms: ms(percentile(a.ttfb, 99)),
              ttft_p50_ms: ms(percentile(a.ttft, 50)),
              ttft_p99_ms: ms(percentile(a.ttft, 99)),
            }),
      };
    }
    out[mode] = m;
  }
  console.log(JSON.stringify(out));
  await Promise.all([...clients.values()].map((c) => c.close()));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
