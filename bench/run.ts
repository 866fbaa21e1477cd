// `npm run bench`: Tollgate against the pass-through floor and the upstream itself, on one
// machine, in one run. See bench/README.md for the method and how to read the output.
//
//   npm run bench                      full matrix (~3.5 min)
//   BENCH_QUICK=1 npm run bench        smoke run (< 1 min)
//   npm run bench -- --profile         CPU profile of Tollgate under load, summarised
//
// Starts, each in its own process: the canned upstream mock (load-generator core), the floor
// and Tollgate (gateway core, `taskset -c 1`). Verifies JSON and SSE through every target,
// runs the closed-loop matrix (wrk, or autocannon when wrk is missing), the concurrency-1
// probe, stops Tollgate gracefully and checks its ledger and access log, then prints a
// markdown report and writes JSON + markdown to .bench-out/.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig, type BenchConfig, type Mode, type TargetName } from './lib/config.js';
import { runLoad } from './lib/loadgen.js';
import {
  CPUS,
  HAS_TASKSET,
  busyShare,
  cmdline,
  cpuTimes,
  foreignCpuS,
  freePort,
  killAllStarted,
  pinSelf,
  procTicks,
  rssMb,
  runToEnd,
  sleep,
  snapshotAll,
  start,
  stop,
  waitForPort,
  waitQuiet,
  HZ,
  HAS_PROC,
  type Started,
} from './lib/procs.js';
import {
  overloadMarkdown,
  overloadSettings,
  overloadVerdicts,
  runOverload,
  type OverloadRecord,
} from './lib/overload.js';
import { markdown, summarize, verdicts, type Meta, type Probe, type RunRecord } from './lib/report.js';
import { verifyTarget, verifyTollgateAccounting, type Check } from './lib/verify.js';
import { Client } from 'undici';
import { provisionKey, BENCH_BUDGET, type BenchKey } from './lib/key.js';
import { CHAT_PATH, LONG_MODEL, LONG_PREFIX, chatBody, requestHeaders } from './lib/wire.js';
import { formatSummary, summarize as summarizeProfile, type Profile } from './tools/cpuprofile-top.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const NODE = process.execPath;

interface Ports {
  mock: number;
  mockPaced: number;
  mockRolePaused: number;
  mockSplitEnd: number;
  /** Answers 20 ms late: the overload row's upstream. */
  mockSlow: number;
  floor: number;
  floorPaced: number;
  floorRolePaused: number;
  floorSplitEnd: number;
  tollgate: number;
  tollgateOverload: number;
}

interface Env {
  /** Event-loop-delay windows taken so far per process (bench/tools/eld-preload.mjs). */
  eldWindows: Partial<Record<TargetName, number>>;
  cfg: BenchConfig;
  ports: Ports;
  scratch: string;
  out: string;
  procs: Partial<Record<'mock' | 'mockPaced' | 'mockRolePaused' | 'floor' | 'tollgate', Started>>;
  /** The virtual key every request carries (made with the CLI before Tollgate starts). */
  key: BenchKey | null;
}

/** What a measured run sends: the standard request, a padded body, or the long stream. */
interface Variant {
  /** `std`, `body N KB` or `500 frames`: the rows' variant column. */
  name: string;
  bodyBytes?: number;
  long?: boolean;
}
const STD: Variant = { name: 'std' };

const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

function tollgateConfig(e: Env): string {
  const p = e.ports;
  return [
    `# written by bench/run.ts: all default features on (SQLite ledger, JSON access log per request);`,
    `# before it starts, the bench makes a virtual key with a hard budget (${BENCH_BUDGET}) with the CLI, so every call is authenticated and budgeted`,
    `server: { host: 127.0.0.1, port: ${p.tollgate}, shutdownGraceMs: 3000 }`,
    `log: { level: info, format: json }`,
    `storage: { url: "sqlite:${join(e.scratch, 'ledger.db')}" }`,
    `providers:`,
    `  up: { type: openai, baseUrl: "http://127.0.0.1:${p.mock}/v1", apiKey: "sk-bench" }`,
    `  paced: { type: openai, baseUrl: "http://127.0.0.1:${p.mockPaced}/v1", apiKey: "sk-bench" }`,
    `  rolepaused: { type: openai, baseUrl: "http://127.0.0.1:${p.mockRolePaused}/v1", apiKey: "sk-bench" }`,
    `  splitend: { type: openai, baseUrl: "http://127.0.0.1:${p.mockSplitEnd}/v1", apiKey: "sk-bench" }`,
    `  long: { type: openai, baseUrl: "http://127.0.0.1:${p.mock}${LONG_PREFIX}/v1", apiKey: "sk-bench" }`,
    `models:`,
    `  gpt-4o-mini: { deployments: [{ provider: up, model: gpt-4o-mini }] }`,
    `  gpt-4o-mini-paced: { deployments: [{ provider: paced, model: gpt-4o-mini }] }`,
    `  gpt-4o-mini-role-paused: { deployments: [{ provider: rolepaused, model: gpt-4o-mini }] }`,
    `  gpt-4o-mini-split-end: { deployments: [{ provider: splitend, model: gpt-4o-mini }] }`,
    `  ${LONG_MODEL}: { deployments: [{ provider: long, model: gpt-4o-mini }] }`,
    ``,
  ].join('\n');
}

/** The environment for Tollgate: nothing from the caller's shell may override the bench's config file. */
function tollgateEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_LOG_LEVEL: 'info' };
  for (const k of ['PORT', 'HOST', 'TOLLGATE_CONFIG', 'TOLLGATE_ENV', 'OPENAI_API_KEY', 'OPENAI_BASE_URL'])
    delete env[k];
  return env;
}

async function startUpstream(e: Env): Promise<void> {
  const { cfg, ports } = e;
  if (cfg.upstream === 'canned') {
    e.procs.mock = start(
      'mock',
      cfg.loadgenCpu,
      NODE,
      ['--import', 'tsx', here('./servers/mock-upstream.ts')],
      {
        MOCK_PORT: String(ports.mock),
        MOCK_PACED_PORT: String(ports.mockPaced),
        MOCK_ROLE_PAUSED_PORT: String(ports.mockRolePaused),
        MOCK_SPLIT_END_PORT: String(ports.mockSplitEnd),
        MOCK_SLOW_PORT: String(ports.mockSlow),
        MOCK_SLOW_MS: String(overloadSettings().upstreamMs),
        MOCK_GAP_MS: String(cfg.pacedGapMs),
      },
      join(e.out, 'mock.log'),
    );
    for (const p of [ports.mock, ports.mockPaced, ports.mockRolePaused, ports.mockSplitEnd, ports.mockSlow])
      await waitForPort(p, 20_000, e.procs.mock);
    return;
  }
  // Our own mock (`tollgate mock`): realistic wire output, but it costs more per request than
  // the canned one, so the load generator's core saturates sooner.
  const bin = join(ROOT, 'bin/tollgate.js');
  e.procs.mock = start(
    'mock',
    cfg.loadgenCpu,
    NODE,
    [bin, 'mock', '--port', String(ports.mock)],
    {},
    join(e.out, 'mock.log'),
  );
  e.procs.mockPaced = start(
    'mockPaced',
    cfg.loadgenCpu,
    NODE,
    [
      bin,
      'mock',
      '--port',
      String(ports.mockPaced),
      '--chunk-delay-ms',
      String(Math.max(1, Math.round(cfg.pacedGapMs / 10))),
    ],
    {},
    join(e.out, 'mock-paced.log'),
  );
  // Our mock has no pause-after-N-frames scenario: the role-paused variant uses the same paced instance.
  ports.mockRolePaused = ports.mockPaced;
  ports.mockSplitEnd = ports.mock;
  await waitForPort(ports.mock, 30_000, e.procs.mock);
  await waitForPort(ports.mockPaced, 30_000, e.procs.mockPaced);
}

async function startFloor(e: Env): Promise<void> {
  const { cfg, ports } = e;
  e.procs.floor = start(
    'floor',
    cfg.gwCpu,
    NODE,
    ['--import', 'tsx', '--import', here('./tools/eld-preload.mjs'), here('./servers/floor-proxy.ts')],
    {
      ELD_OUT: join(e.scratch, 'eld-floor'),
      FLOOR_PORT: String(ports.floor),
      UPSTREAM: `http://127.0.0.1:${ports.mock}`,
      FLOOR_PACED_PORT: String(ports.floorPaced),
      UPSTREAM_PACED: `http://127.0.0.1:${ports.mockPaced}`,
      FLOOR_ROLE_PAUSED_PORT: String(ports.floorRolePaused),
      UPSTREAM_ROLE_PAUSED: `http://127.0.0.1:${ports.mockRolePaused}`,
      FLOOR_SPLIT_END_PORT: String(ports.floorSplitEnd),
      UPSTREAM_SPLIT_END: `http://127.0.0.1:${ports.mockSplitEnd}`,
    },
    join(e.out, 'floor.log'),
  );
  for (const p of [ports.floor, ports.floorPaced, ports.floorRolePaused, ports.floorSplitEnd])
    await waitForPort(p, 20_000, e.procs.floor);
}

async function startTollgate(e: Env, nodeFlags: string[] = []): Promise<void> {
  const configFile = join(e.scratch, 'tollgate.bench.yaml');
  writeFileSync(configFile, tollgateConfig(e));
  // As a user would: `tollgate tenants create` + `tollgate keys create --budget` against the
  // config's SQLite file, before the server starts (once: --profile restarts on the same file).
  if (!e.key) {
    e.key = await provisionKey(configFile, tollgateEnv());
    log(`virtual key ${e.key.keyId} (tenant ${e.key.tenant}) with hard budget ${e.key.budgetId} (${BENCH_BUDGET})`);
  }
  e.procs.tollgate = start(
    'tollgate',
    e.cfg.gwCpu,
    NODE,
    [
      ...nodeFlags,
      '--import',
      here('./tools/eld-preload.mjs'),
      join(ROOT, 'bin/tollgate.js'),
      'serve',
      '--config',
      configFile,
      '--port',
      String(e.ports.tollgate),
      '--host',
      '127.0.0.1',
    ],
    { ...tollgateEnv(), ELD_OUT: join(e.scratch, 'eld-tollgate') },
    join(e.scratch, 'tollgate.log'),
  );
  e.eldWindows.tollgate = 0;
  await waitForPort(e.ports.tollgate, 60_000, e.procs.tollgate);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${e.ports.tollgate}/health/ready`).catch(() => null);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`Tollgate not ready: ${res?.status ?? 'no answer'}`);
    await sleep(200);
  }
}

interface Endpoint {
  url: string;
  model: string;
}
interface TargetInfo {
  base: Endpoint;
  paced: Endpoint;
  rolePaused: Endpoint;
  splitEnd: Endpoint;
  /** The 500-frame stream: the mock's path prefix (floor and direct), an alias (Tollgate). */
  long: Endpoint;
  proc: Started | undefined;
}
function targetUrls(e: Env): Record<TargetName, TargetInfo> {
  const p = e.ports;
  const at = (port: number, model = 'gpt-4o-mini'): Endpoint => ({ url: `http://127.0.0.1:${port}`, model });
  return {
    direct: {
      base: at(p.mock),
      paced: at(p.mockPaced),
      rolePaused: at(p.mockRolePaused),
      splitEnd: at(p.mockSplitEnd),
      long: { url: `http://127.0.0.1:${p.mock}${LONG_PREFIX}`, model: 'gpt-4o-mini' },
      proc: e.procs.mock,
    },
    floor: {
      base: at(p.floor),
      paced: at(p.floorPaced),
      rolePaused: at(p.floorRolePaused),
      splitEnd: at(p.floorSplitEnd),
      long: { url: `http://127.0.0.1:${p.floor}${LONG_PREFIX}`, model: 'gpt-4o-mini' },
      proc: e.procs.floor,
    },
    tollgate: {
      base: at(p.tollgate),
      paced: at(p.tollgate, 'gpt-4o-mini-paced'),
      rolePaused: at(p.tollgate, 'gpt-4o-mini-role-paused'),
      splitEnd: at(p.tollgate, 'gpt-4o-mini-split-end'),
      long: at(p.tollgate, LONG_MODEL),
      proc: e.procs.tollgate,
    },
  };
}

async function verifyAll(e: Env, targets: TargetName[]): Promise<Check[]> {
  const urls = targetUrls(e);
  const checks: Check[] = [];
  for (const name of targets) {
    const t = urls[name];
    checks.push(
      ...(await verifyTarget(
        { name, base: t.base, paced: t.paced, rolePaused: t.rolePaused, splitEnd: t.splitEnd, long: t.long },
        e.cfg.upstream === 'canned',
        e.key!.secret,
      )),
    );
  }
  if (targets.includes('tollgate'))
    checks.push(
      ...(await verifyTollgateAccounting({
        url: urls.tollgate.base.url,
        key: e.key!.secret,
        keyId: e.key!.keyId,
        tenant: e.key!.tenant,
        budgetId: e.key!.budgetId,
        ledgerFile: join(e.scratch, 'ledger.db'),
      })),
    );
  return checks;
}

let statsClient: Client | null = null;
/** The canned mock's counters (connections accepted, requests served); null for other upstreams. */
type Counters = { connections: number; requests: number };
async function upstreamStats(e: Env): Promise<(Counters & { byPort: Record<string, Counters> }) | null> {
  if (e.cfg.upstream !== 'canned') return null;
  statsClient ??= new Client(`http://127.0.0.1:${e.ports.mock}`, { keepAliveTimeout: 600_000 });
  try {
    const r = await statsClient.request({ path: '/__bench/stats', method: 'GET' });
    return (await r.body.json()) as Counters & { byPort: Record<string, Counters> };
  } catch {
    return null;
  }
}

/** One measured load run: quiet wait, load, /proc sampling of the serving process and both cores. */
async function measure(
  e: Env,
  target: TargetName,
  mode: Mode,
  conc: number,
  rep: number,
  durationS: number,
  record: boolean,
  variant: Variant = STD,
): Promise<RunRecord> {
  const { cfg } = e;
  const t = targetUrls(e)[target];
  const server = t.proc!;
  const quiet = record ? await waitQuiet(cfg.quietMaxWaitS, cfg.quietWindowMs) : { waitedS: 0, foreign: 0 };
  const eld = target !== 'direct' && HAS_PROC;
  if (eld) process.kill(server.pid, 'SIGUSR2');
  const upA = await upstreamStats(e);
  const snapA = snapshotAll();
  const cpuA = cpuTimes();
  const ticksA = procTicks(server.pid);
  const rss: number[] = [];
  const sampler = setInterval(() => {
    const r = rssMb(server.pid);
    if (r !== null) rss.push(r);
  }, 200);
  const label = `${target}/${mode}/c${conc}/r${rep}${variant === STD ? '' : `/${variant.name.replace(/ /g, '')}`}`;
  const ep = variant.long ? t.long : t.base;
  let res;
  try {
    res = await runLoad(cfg, {
      url: ep.url,
      model: ep.model,
      conc,
      durationS,
      stream: mode === 'sse',
      label,
      key: e.key!.secret,
      ...(variant.bodyBytes ? { bodyBytes: variant.bodyBytes } : {}),
      scratch: e.scratch,
    });
  } finally {
    clearInterval(sampler);
  }
  const ticksB = procTicks(server.pid);
  const cpuB = cpuTimes();
  const foreign = foreignCpuS(snapA, snapshotAll());
  const upB = await upstreamStats(e);
  let loop: { p99_ms: number; max_ms: number } | null = null;
  if (eld) {
    process.kill(server.pid, 'SIGUSR2');
    const n = (e.eldWindows[target] ?? 0) + 0;
    e.eldWindows[target] = n + 1;
    const file = join(e.scratch, `eld-${target}.${server.pid}.${n}`);
    for (let i = 0; i < 20 && !existsSync(file); i++) await sleep(25);
    try {
      loop = JSON.parse(readFileSync(file, 'utf8')) as { p99_ms: number; max_ms: number };
    } catch {
      loop = null;
    }
  }
  const serverCpuCores = ticksA && ticksB ? (ticksB.ticks - ticksA.ticks) / HZ / res.durationS : null;
  const loadgenCpuBusy = busyShare(cpuA, cpuB, cfg.loadgenCpu);
  const gwCpuBusy = busyShare(cpuA, cpuB, cfg.gwCpu);
  const errors = res.errStatus + res.errSocket + res.errTimeout;
  const rec: RunRecord = {
    ...res,
    target,
    mode,
    conc,
    rep,
    variant: variant.name,
    errors,
    serverCpuCores,
    cpuUsPerReq: serverCpuCores !== null && res.rps > 0 ? (serverCpuCores * 1e6) / res.rps : null,
    rssPeakMb: rss.length ? Math.max(...rss) : null,
    loadgenCpuBusy,
    gwCpuBusy,
    foreignCores: foreign.seconds / res.durationS,
    foreignTop: foreign.top.map(([pid, s]) => `${cmdline(pid)} (${(s / res.durationS).toFixed(2)} cores)`),
    quietWaitS: quiet.waitedS,
    loopDelayP99Ms: loop?.p99_ms ?? null,
    loopDelayMaxMs: loop?.max_ms ?? null,
    upstreamConns: upA && upB ? upB.connections - upA.connections : null,
    upstreamRequests: upA && upB ? upB.requests - upA.requests : null,
    loadgenBound:
      target !== 'direct' && loadgenCpuBusy !== null && loadgenCpuBusy > 0.9 && (serverCpuCores ?? 1) < 0.85,
  };
  if (record) {
    log(
      `${label.padEnd(30)} ${res.rps.toFixed(0).padStart(6)} req/s  p50 ${res.p50Ms.toFixed(2)} ms  p99 ${res.p99Ms.toFixed(2)} ms  ` +
        `cpu ${serverCpuCores?.toFixed(2)}  rss ${rec.rssPeakMb?.toFixed(0)} MB  errors ${errors}  ` +
        `loop delay p99 ${rec.loopDelayP99Ms ?? '?'} max ${rec.loopDelayMaxMs ?? '?'} ms  new upstream conns ${rec.upstreamConns ?? '?'}  cores busy ${fmtPct(loadgenCpuBusy)}/${fmtPct(gwCpuBusy)}  other jobs ${rec.foreignCores.toFixed(2)}`,
    );
  }
  return rec;
}
const fmtPct = (x: number | null): string => (x === null ? '?' : `${Math.round(x * 100)}%`);

async function probe(e: Env): Promise<Probe | null> {
  const { cfg } = e;
  if (cfg.probeN <= 0 && cfg.probePacedN <= 0) return null;
  const urls = targetUrls(e);
  const targets = cfg.targets.includes('direct') ? cfg.targets : (['direct', ...cfg.targets] as TargetName[]);
  const args = {
    targets: targets.map((name) => ({
      name,
      variants: { base: urls[name].base, paced: urls[name].paced, rolePaused: urls[name].rolePaused },
    })),
    n: cfg.probeN,
    nPaced: cfg.probePacedN,
    warmup: Math.min(200, Math.max(20, Math.round(cfg.probeN / 10))),
    key: e.key!.secret,
  };
  const r = await runToEnd(
    cfg.loadgenCpu,
    NODE,
    ['--import', 'tsx', here('./tools/probe-c1.ts')],
    { PROBE_ARGS: JSON.stringify(args) },
    300_000,
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`probe failed (exit ${r.code}): ${r.stderr.slice(-600)}`);
  return JSON.parse(line) as Probe;
}

/**
 * Upstream keep-alive for streams: N sequential SSE requests through each target against the
 * upstream whose chunked terminator follows `[DONE]` in its own packet; counts the TCP
 * connections that upstream accepted. A pool that reuses its connection needs 1.
 */
async function streamReuse(
  e: Env,
  n: number,
): Promise<Partial<Record<TargetName, { streams: number; connections: number; ok: number }>>> {
  const out: Partial<Record<TargetName, { streams: number; connections: number; ok: number }>> = {};
  if (e.cfg.upstream !== 'canned' || n <= 0) return out;
  const urls = targetUrls(e);
  const port = String(e.ports.mockSplitEnd);
  for (const name of ['direct', 'floor', 'tollgate'] as TargetName[]) {
    const ep = urls[name].splitEnd;
    const client = new Client(ep.url, { keepAliveTimeout: 60_000 });
    await sleep(50);
    const a = await upstreamStats(e);
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const r = await client.request({
        path: CHAT_PATH,
        method: 'POST',
        headers: requestHeaders(e.key!.secret),
        body: chatBody(true, ep.model),
      });
      const text = await r.body.text();
      if (r.statusCode === 200 && text.includes('[DONE]')) ok++;
      await sleep(10); // let a released connection settle back into the pool
    }
    await client.close();
    const b = await upstreamStats(e);
    const conns = a && b ? (b.byPort[port]?.connections ?? 0) - (a.byPort[port]?.connections ?? 0) : -1;
    out[name] = { streams: n, connections: conns, ok };
    log(
      `stream keep-alive ${name.padEnd(8)} ${n} sequential streams -> ${conns} upstream connection(s), ${ok} complete`,
    );
  }
  return out;
}

/** After a graceful stop: ledger rows by outcome and access-log lines, as evidence the features were on. */
async function evidence(e: Env): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const logFile = join(e.scratch, 'tollgate.log');
  const text = readFileSync(logFile, 'utf8');
  let access = 0;
  const other: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line.includes('"msg":"request"')) access++;
    else other.push(line);
  }
  writeFileSync(join(e.out, 'tollgate-log-non-access.txt'), other.slice(0, 500).join('\n') + '\n');
  const warnings = other.filter((l) => /"level":"(warn|error|fatal)"/.test(l));
  let ledger: Record<string, number>;
  let byTenant: { tenant: string | null; key_id: string | null; n: number }[] = [];
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(e.scratch, 'ledger.db'), { readonly: true });
    const rows = db.prepare('select outcome, count(*) as n from requests group by outcome').all() as {
      outcome: string;
      n: number;
    }[];
    ledger = Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
    byTenant = db.prepare('select tenant, key_id, count(*) as n from requests group by tenant, key_id').all() as {
      tenant: string | null;
      key_id: string | null;
      n: number;
    }[];
    db.close();
  } catch (err) {
    ledger = { error: -1 };
    other.push(`ledger read failed: ${(err as Error).message}`);
  }
  const ledgerTotal = Object.values(ledger).reduce((a, b) => a + Math.max(0, b), 0);
  const lines = [
    `Features exercised: Tollgate wrote **${access.toLocaleString('en')} access-log lines** (JSON, ${(statSync(logFile).size / 1e6).toFixed(1)} MB) and **${ledgerTotal.toLocaleString('en')} ledger rows** in SQLite (by outcome: ${
      Object.entries(ledger)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }; by tenant and key: ${
      byTenant.map((r) => `${r.tenant ?? 'none'}/${r.key_id ?? 'no key'} ${r.n}`).join(', ') || 'none'
    }); ` +
      `rows marked aborted are requests the load generator cut off when its run time ended. ${warnings.length} warn/error log lines${warnings.length ? ` (first: ${warnings[0]!.slice(0, 200)})` : ''}.`,
  ];
  return {
    lines,
    json: {
      accessLogLines: access,
      logBytes: statSync(logFile).size,
      ledger,
      ledgerByTenant: byTenant,
      warnLines: warnings.length,
      firstWarn: warnings[0] ?? null,
    },
  };
}

async function setup(cfg: BenchConfig): Promise<Env> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = resolve(ROOT, cfg.outDir, stamp + (cfg.profile ? '-profile' : ''));
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const ports: Ports = {
    mock: await freePort(),
    mockPaced: await freePort(),
    mockRolePaused: await freePort(),
    mockSplitEnd: await freePort(),
    mockSlow: await freePort(),
    floor: await freePort(),
    floorPaced: await freePort(),
    floorRolePaused: await freePort(),
    floorSplitEnd: await freePort(),
    tollgate: await freePort(),
    tollgateOverload: await freePort(),
  };
  if (cfg.loadgenCpu !== null) pinSelf(cfg.loadgenCpu);
  return { cfg, ports, scratch, out, procs: {}, eldWindows: {}, key: null };
}

async function teardown(e: Env): Promise<void> {
  await statsClient?.close().catch(() => undefined);
  statsClient = null;
  for (const p of [e.procs.tollgate, e.procs.floor, e.procs.mockPaced, e.procs.mock]) if (p) await stop(p);
  if (!e.cfg.keep) rmSync(e.scratch, { recursive: true, force: true });
  else log(`kept scratch files (ledger, full log) in ${e.scratch}`);
}

function pinningNote(cfg: BenchConfig): string {
  if (cfg.gwCpu === null) return HAS_TASKSET ? `no pinning (${CPUS} CPU)` : 'no pinning (taskset not found)';
  return `gateway under test on CPU ${cfg.gwCpu}, load generator + mock + orchestrator on CPU ${cfg.loadgenCpu} (taskset)`;
}

async function main(): Promise<number> {
  const cfg = readConfig(process.argv.slice(2));
  if (cfg.profile) return profileMain(cfg);
  let startWaitS = 0;
  if (cfg.startQuietWaitS > 0) {
    const q = await waitQuiet(cfg.startQuietWaitS, 2000);
    startWaitS = q.waitedS;
    log(
      `other jobs on this box: ${q.foreign.toFixed(2)} cores (waited ${q.waitedS.toFixed(0)} s for quiet, at most ${cfg.startQuietWaitS} s)`,
    );
  }
  const t0 = Date.now();
  const e = await setup(cfg);
  log(`output ${e.out}; load generator ${cfg.loadgen}; upstream ${cfg.upstream}; ${pinningNote(cfg)}`);
  if (cfg.upstream !== 'canned') cfg.probePacedN = Math.min(cfg.probePacedN, 20);
  try {
    await Promise.all([startUpstream(e), startFloor(e), startTollgate(e)]);
    await sleep(500);
    const idleRssMb = { floor: rssMb(e.procs.floor!.pid), tollgate: rssMb(e.procs.tollgate!.pid) };

    const checks = await verifyAll(e, ['direct', 'floor', 'tollgate']);
    for (const c of checks)
      log(`verify ${c.target.padEnd(8)} ${c.kind.padEnd(9)} ${c.ok ? 'OK  ' : 'FAIL'} ${c.status} ${c.detail}`);
    writeFileSync(join(e.out, 'verify.json'), JSON.stringify(checks, null, 1));
    if (checks.some((c) => !c.ok)) {
      log('correctness check failed: not measuring. See verify.json and the logs in ' + e.out);
      return 1;
    }

    const runs: RunRecord[] = [];
    const warmed = new Set<string>();
    let retries = 0;
    /** One recorded cell: warm-up once per target, mode and variant; measured again when other jobs were busy. */
    const cell = async (
      target: TargetName,
      mode: Mode,
      conc: number,
      rep: number,
      durationS: number,
      variant: Variant,
    ): Promise<void> => {
      const w = `${target}|${mode}|${variant.name}`;
      const warmupS = variant === STD ? cfg.warmupS : cfg.sizeWarmupS;
      if (!warmed.has(w) && warmupS > 0) {
        warmed.add(w);
        await measure(e, target, mode, 32, 0, warmupS, false, variant);
      }
      let rec = await measure(e, target, mode, conc, rep, durationS, true, variant);
      if (rec.foreignCores > cfg.noisyCores && retries < cfg.maxRetries) {
        retries++;
        log(
          `  other jobs used ${rec.foreignCores.toFixed(2)} cores during that run: measuring it again (retry ${retries}/${cfg.maxRetries})`,
        );
        const again = await measure(e, target, mode, conc, rep, durationS, true, variant);
        if (again.foreignCores < rec.foreignCores) rec = again;
      }
      runs.push(rec);
      writeFileSync(join(e.out, 'runs.jsonl'), runs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    };
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const order = rep % 2 === 1 ? cfg.targets : [...cfg.targets].reverse();
      for (const mode of cfg.modes)
        for (const conc of cfg.concs)
          for (const target of order) await cell(target, mode, conc, rep, cfg.durationS, STD);
    }
    // The size rows (c=32, floor and Tollgate): request body 1 / 32 / 256 KB (JSON) and a
    // 500-frame stream beside the matrix's 25-frame one (SSE c=32, measured above; measured
    // here too when the matrix left it out). Their slopes give the cost per extra KB / frame.
    const sizeTargets = cfg.targets.filter((t): t is 'floor' | 'tollgate' => t !== 'direct');
    const sizeVariants: [Mode, Variant][] = cfg.bodySizesKb.map((kb): [Mode, Variant] => [
      'json',
      { name: `body ${kb} KB`, bodyBytes: kb * 1024 },
    ]);
    if (cfg.longStream && cfg.upstream === 'canned') {
      if (!cfg.modes.includes('sse') || !cfg.concs.includes(32)) sizeVariants.push(['sse', STD]);
      sizeVariants.push(['sse', { name: '500 frames', long: true }]);
    }
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const order = rep % 2 === 1 ? sizeTargets : [...sizeTargets].reverse();
      for (const [mode, variant] of sizeVariants)
        for (const target of order) await cell(target, mode, 32, rep, cfg.sizeDurationS, variant);
    }

    log(
      `concurrency-1 probe: ${cfg.probeN} requests per target (json, sse), ${cfg.probePacedN} (sse-paced, sse-role-paused)`,
    );
    const probed = await probe(e);
    const reuse = await streamReuse(e, cfg.reuseN);

    const tollgateRssEnd = rssMb(e.procs.tollgate!.pid);
    const code = await stop(e.procs.tollgate!, 15_000);
    log(`Tollgate stopped (exit ${code})`);
    const ev = await evidence(e);
    // The overload row runs a Tollgate of its own (a small cap on calls in flight), after the main one stopped.
    let overload: OverloadRecord | null = null;
    if (cfg.upstream === 'canned' && process.env.BENCH_OVERLOAD !== '0') {
      overload = await runOverload({
        cfg,
        settings: overloadSettings(),
        upstreamUrl: `http://127.0.0.1:${e.ports.mockSlow}`,
        port: e.ports.tollgateOverload,
        scratch: e.scratch,
        env: tollgateEnv(),
        log,
      });
    }
    const rows = summarize(runs);
    const errorsTotal = runs.reduce((a, r) => a + r.errors, 0) + checkProbeErrors(probed);
    const vs = [
      ...verdicts(rows, probed, errorsTotal, reuse, idleRssMb),
      ...(overload ? overloadVerdicts(overload) : []),
    ];
    const meta: Meta = {
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      host: `${CPUS} CPU ${cpus()[0]?.model.trim() ?? ''}`,
      node: process.versions.node,
      loadgen: cfg.loadgen === 'wrk' ? 'wrk (-t1)' : 'autocannon (wrk not installed)',
      upstream:
        cfg.upstream === 'canned'
          ? 'canned mock (bench/servers/mock-upstream.ts)'
          : 'tollgate mock (bin/tollgate.js mock)',
      pinning: pinningNote(cfg),
      durationS: cfg.durationS,
      reps: cfg.reps,
      probeN: cfg.probeN,
      probePacedN: cfg.probePacedN,
      pacedGapMs: cfg.upstream === 'canned' ? cfg.pacedGapMs : Math.max(1, Math.round(cfg.pacedGapMs / 10)),
      idleRssMb,
      evidence: [
        ...ev.lines,
        `Total wall time ${((Date.now() - t0) / 1000).toFixed(0)} s (after ${startWaitS.toFixed(0)} s waiting for other jobs to go quiet); Tollgate RSS at the end ${tollgateRssEnd?.toFixed(0) ?? '—'} MB.`,
      ],
    };
    const md = markdown(meta, rows, probed, vs) + (overload ? overloadMarkdown(overload) : '');
    const json = {
      meta,
      config: cfg,
      ports: e.ports,
      verdicts: vs,
      rows,
      probe: probed,
      runs,
      verify: checks,
      evidence: ev.json,
      overload,
    };
    writeFileSync(join(e.out, 'results.json'), JSON.stringify(json, null, 1));
    writeFileSync(join(e.out, 'results.md'), md);
    copyFileSync(join(e.out, 'results.json'), resolve(ROOT, cfg.outDir, 'latest.json'));
    copyFileSync(join(e.out, 'results.md'), resolve(ROOT, cfg.outDir, 'latest.md'));
    console.log(md);
    log(`results: ${join(e.out, 'results.json')} and results.md (also ${cfg.outDir}/latest.*)`);
    if (errorsTotal > 0) return 1;
    if (cfg.enforce && vs.some((v) => v.pass === false)) return 3;
    return 0;
  } finally {
    await teardown(e);
  }
}

function checkProbeErrors(p: Probe | null): number {
  if (!p) return 0;
  let n = 0;
  for (const m of Object.values(p)) for (const s of Object.values(m ?? {})) n += s?.errors ?? 0;
  return n;
}

/**
 * `--profile`: Tollgate alone under `node --cpu-prof`, c=BENCH_PROFILE_CONC, one process per
 * mode (JSON, then SSE), summarised by bench/tools/cpuprofile-top.ts.
 */
async function profileMain(cfg: BenchConfig): Promise<number> {
  const e = await setup(cfg);
  log(`profile: output ${e.out}; load generator ${cfg.loadgen}; ${pinningNote(cfg)}`);
  try {
    await startUpstream(e);
    for (const mode of cfg.modes) {
      const dir = join(e.out, `cpuprofile-${mode}`);
      mkdirSync(dir, { recursive: true });
      await startTollgate(e, [
        '--cpu-prof',
        '--cpu-prof-dir',
        dir,
        '--cpu-prof-interval',
        String(cfg.profileIntervalUs),
      ]);
      const checks = await verifyAll(e, ['tollgate']);
      if (checks.some((c) => !c.ok)) throw new Error(`Tollgate failed its checks: ${JSON.stringify(checks)}`);
      await measure(e, 'tollgate', mode, cfg.profileConc, 0, Math.max(1, cfg.warmupS), false);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const rec = await measure(e, 'tollgate', mode, cfg.profileConc, 1, cfg.profileDurationS, true);
      const toUs = Number(process.hrtime.bigint() / 1000n);
      await stop(e.procs.tollgate!, 20_000);
      // One file per thread (tsx's loader hooks run on their own thread): the main thread is id 0.
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
      const file = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
      if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
      writeFileSync(join(dir, 'window.json'), JSON.stringify({ fromUs, toUs, requests: rec.requests }));
      const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
      const text = formatSummary(summarizeProfile(prof, 30, { fromUs, toUs }), rec.requests);
      const head = `# Tollgate CPU profile, ${mode.toUpperCase()}, c=${cfg.profileConc}: samples of the ${cfg.profileDurationS} s measured run only (start-up and warm-up left out)\n# under profiling: ${rec.rps.toFixed(0)} req/s, ${rec.cpuUsPerReq?.toFixed(0)} µs CPU per request, errors ${rec.errors}\n`;
      writeFileSync(join(e.out, `profile-${mode}.txt`), head + text);
      console.log(head + text);
    }
    log(`profiles and summaries in ${e.out}`);
    return 0;
  } finally {
    await teardown(e);
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllStarted();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAllStarted();
    process.exit(1);
  },
);
