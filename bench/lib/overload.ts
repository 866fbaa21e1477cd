// The overload row: does Tollgate shed fast (issue 8 item 10)? A Tollgate of its own with
// `server.maxInFlight: cap` in front of the canned mock's slow listener (every answer
// `upstreamMs` late), on the gateway core. First one call at a time (the unloaded p50), then
// 4 × cap connections in a closed loop: cap of them are admitted at any moment, the rest are
// refused and come straight back (a worst case: real clients wait for `retry-after`). Reports
// the admitted calls' p99 against the unloaded p50, and how fast the refusals come. Like the main
// Tollgate, it authenticates every call by a virtual key with a hard budget (bench/lib/key.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '../tools/overload-run.js';
import type { BenchConfig } from './config.js';
import { provisionKey } from './key.js';
import { HZ, busyShare, cpuTimes, procTicks, rssMb, runToEnd, sleep, start, stop, waitForPort } from './procs.js';
import type { Verdict } from './report.js';

const TOOL = fileURLToPath(new URL('../tools/overload-run.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tollgate.js', import.meta.url));
const ADMIN = 'bench-admin-key-0123456789abcdef';

export interface OverloadSettings {
  /** `server.maxInFlight` of the Tollgate under test. */
  cap: number;
  /** Load = factor × cap connections. */
  factor: number;
  upstreamMs: number;
}

export interface OverloadRecord extends OverloadSettings {
  unloaded: Result;
  overload: Result;
  /** Tollgate's CPU during the overload run (cores), peak RSS (MB). */
  serverCpuCores: number | null;
  rssPeakMb: number | null;
  /** Busy share (0..1) of the load generator's core (shared with the mock) during the overload run. */
  loadgenCpuBusy: number | null;
  /** From Tollgate's admin `/health` after the run: calls shed by cause, and the event-loop delay. */
  gate: { shed: Record<string, number>; eventLoopDelayMs: number | null } | null;
}

export function overloadSettings(): OverloadSettings {
  const n = (name: string, fallback: number): number => {
    const v = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
    return v;
  };
  return {
    cap: n('BENCH_OVERLOAD_CAP', 32),
    factor: n('BENCH_OVERLOAD_FACTOR', 4),
    upstreamMs: n('BENCH_OVERLOAD_UPSTREAM_MS', 20),
  };
}

/** Runs the overload row; `upstreamUrl` is the mock's slow listener. Stops its Tollgate before returning. */
export async function runOverload(opts: {
  cfg: BenchConfig;
  settings: OverloadSettings;
  upstreamUrl: string;
  port: number;
  scratch: string;
  env: NodeJS.ProcessEnv;
  log: (msg: string) => void;
}): Promise<OverloadRecord> {
  const { cfg, settings, port, scratch, log } = opts;
  const configFile = join(scratch, 'tollgate.overload.yaml');
  writeFileSync(
    configFile,
    [
      `# written by bench/lib/overload.ts: the main bench's Tollgate (virtual key with a hard budget), with a small cap on calls in flight`,
      `server: { host: 127.0.0.1, port: ${port}, shutdownGraceMs: 3000, maxInFlight: ${settings.cap} }`,
      `log: { level: info, format: json }`,
      `admin: { apiKey: "${ADMIN}" }`,
      `storage: { url: "sqlite:${join(scratch, 'overload-ledger.db')}" }`,
      `providers:`,
      `  slow: { type: openai, baseUrl: "${opts.upstreamUrl}/v1", apiKey: "sk-bench" }`,
      `models:`,
      `  gpt-4o-mini: { deployments: [{ provider: slow, model: gpt-4o-mini }] }`,
      ``,
    ].join('\n'),
  );
  const key = await provisionKey(configFile, opts.env);
  const proc = start(
    'tollgate-overload',
    cfg.gwCpu,
    process.execPath,
    [BIN, 'serve', '--config', configFile, '--port', String(port), '--host', '127.0.0.1'],
    opts.env,
    join(scratch, 'tollgate-overload.log'),
  );
  try {
    await waitForPort(port, 60_000, proc);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; (await fetch(`${url}/health/ready`).catch(() => null))?.status !== 200; i++) {
      if (i > 100) throw new Error("the overload row's Tollgate never became ready");
      await sleep(200);
    }
    const load = async (conc: number, durationS: number, warmupS: number): Promise<Result> => {
      const r = await runToEnd(
        cfg.loadgenCpu,
        process.execPath,
        ['--import', 'tsx', TOOL],
        { OVERLOAD_ARGS: JSON.stringify({ url, model: 'gpt-4o-mini', conc, durationS, warmupS, key: key.secret }) },
        (durationS + warmupS + 60) * 1000,
      );
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error(`overload-run printed no result (exit ${r.code}): ${r.stderr.slice(-600)}`);
      return JSON.parse(line) as Result;
    };
    const durationS = cfg.quick ? 3 : cfg.durationS;
    const unloaded = await load(1, cfg.quick ? 2 : 4, 1);
    log(
      `overload: unloaded (c=1, upstream ${settings.upstreamMs} ms) p50 ${unloaded.admitted.p50_ms} ms p99 ${unloaded.admitted.p99_ms} ms`,
    );
    const conc = settings.cap * settings.factor;
    const ticksA = procTicks(proc.pid);
    const cpuA = cpuTimes();
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const r = rssMb(proc.pid);
      if (r !== null) rss.push(r);
    }, 200);
    let overload: Result;
    try {
      overload = await load(conc, durationS, cfg.warmupS);
    } finally {
      clearInterval(sampler);
    }
    const ticksB = procTicks(proc.pid);
    const loadgenCpuBusy = busyShare(cpuA, cpuTimes(), cfg.loadgenCpu);
    const serverCpuCores = ticksA && ticksB ? (ticksB.ticks - ticksA.ticks) / HZ / (durationS + cfg.warmupS) : null;
    const gate = await gateFigures(url);
    log(
      `overload: c=${conc} (cap ${settings.cap}): admitted ${overload.admitted.perS}/s p50 ${overload.admitted.p50_ms} p99 ${overload.admitted.p99_ms} ms; ` +
        `shed ${overload.shed.perS}/s p50 ${overload.shed.p50_ms} p99 ${overload.shed.p99_ms} ms; other ${JSON.stringify(overload.other)}, socket errors ${overload.socketErrors}; ` +
        `cpu ${serverCpuCores?.toFixed(2)}; shed by cause ${JSON.stringify(gate?.shed ?? null)}`,
    );
    return {
      ...settings,
      unloaded,
      overload,
      serverCpuCores,
      rssPeakMb: rss.length ? Math.max(...rss) : null,
      loadgenCpuBusy,
      gate,
    };
  } finally {
    await stop(proc, 15_000);
  }
}

async function gateFigures(url: string): Promise<OverloadRecord['gate']> {
  for (let i = 0; i < 3; i++) {
    try {
      const res = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await res.json()) as {
        overload?: { shed: Record<string, number>; eventLoopDelayMs: number | null };
      };
      if (body.overload) return { shed: body.overload.shed, eventLoopDelayMs: body.overload.eventLoopDelayMs };
    } catch {
      // not answering yet: try again
    }
    await sleep(200);
  }
  return null;
}

const f = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? '—' : x.toFixed(d));

export function overloadVerdicts(r: OverloadRecord): Verdict[] {
  const { admitted, shed } = r.overload;
  const ratio =
    admitted.p99_ms !== null && r.unloaded.admitted.p50_ms ? admitted.p99_ms / r.unloaded.admitted.p50_ms : null;
  const unexpected = Object.values(r.overload.other).reduce((a, b) => a + b, 0) + r.overload.socketErrors;
  return [
    {
      what: `overload at ${r.factor}× capacity (${r.cap * r.factor} connections, \`maxInFlight: ${r.cap}\`, upstream ${r.upstreamMs} ms): p99 of admitted calls ÷ unloaded p50`,
      measured: `${f(ratio)} (${f(admitted.p99_ms)} ÷ ${f(r.unloaded.admitted.p50_ms)} ms)`,
      target: '≤ 5',
      pass: ratio === null ? false : ratio <= 5,
    },
    {
      what: 'overload: shed calls answered (p99; 503 `overloaded` with `retry-after`)',
      measured: `${f(shed.p99_ms)} ms (p50 ${f(shed.p50_ms)}; ${shed.n} shed, ${r.overload.shedWithoutRetryAfter} without retry-after)`,
      target: '< 5 ms',
      pass: shed.n > 0 && shed.p99_ms !== null && shed.p99_ms < 5 && r.overload.shedWithoutRetryAfter === 0,
    },
    {
      what: 'overload: answers other than 200 and 503 `overloaded`, socket errors',
      measured: String(unexpected),
      target: '0',
      pass: unexpected === 0,
    },
  ];
}

export function overloadMarkdown(r: OverloadRecord): string {
  const row = (label: string, x: Result['admitted']): string =>
    `| ${label} | ${x.n} | ${x.perS} | ${f(x.p50_ms)} | ${f(x.p99_ms)} | ${f(x.max_ms)} |\n`;
  let md = `\n**Overload** (Tollgate with \`server.maxInFlight: ${r.cap}\`, other settings default; upstream answers ${r.upstreamMs} ms late; closed loop, a refused connection asks again at once)\n\n`;
  md += '| run | answers | per s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n';
  md += row('unloaded (c=1), admitted', r.unloaded.admitted);
  md += row(`${r.factor}× capacity (c=${r.cap * r.factor}), admitted`, r.overload.admitted);
  md += row(`${r.factor}× capacity (c=${r.cap * r.factor}), shed (503)`, r.overload.shed);
  const saturated = r.loadgenCpuBusy !== null && r.loadgenCpuBusy > 0.9 && (r.serverCpuCores ?? 1) < 0.85;
  md += `\nTollgate during the overload run: ${f(r.serverCpuCores)} cores, peak RSS ${f(r.rssPeakMb, 0)} MB; load generator's core (with the mock) ${r.loadgenCpuBusy === null ? '—' : `${Math.round(r.loadgenCpuBusy * 100)} % busy`}${saturated ? " — **load-gen core saturated**: the latencies above include the load generator's and the upstream's own waiting, so they are upper bounds for Tollgate" : ''}; calls shed by cause (from its admin \`/health\`): ${r.gate ? JSON.stringify(r.gate.shed) : '—'}; other answers ${JSON.stringify(r.overload.other)}, socket errors ${r.overload.socketErrors}.\n`;
  return md;
}
