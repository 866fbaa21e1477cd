// Every knob of `npm run bench`, read once from the environment (and argv for --profile).
import { spawnSync } from 'node:child_process';
import { CPUS, HAS_TASKSET } from './procs.js';

export type Mode = 'json' | 'sse';
export type TargetName = 'direct' | 'floor' | 'tollgate';
export type LoadGen = 'wrk' | 'autocannon';
export type Upstream = 'canned' | 'tollgate-mock';

const env = process.env;
const num = (name: string, fallback: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
};
const list = <T extends string>(name: string, fallback: T[], allowed: readonly T[]): T[] => {
  const v = env[name];
  if (!v) return fallback;
  const items = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean) as T[];
  for (const i of items)
    if (!allowed.includes(i)) throw new Error(`${name}: unknown value ${i} (allowed: ${allowed.join(', ')})`);
  return items;
};

export const WRK_FOUND = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).status === 0;

export interface BenchConfig {
  quick: boolean;
  profile: boolean;
  durationS: number;
  reps: number;
  concs: number[];
  modes: Mode[];
  targets: TargetName[];
  warmupS: number;
  probeN: number;
  probePacedN: number;
  pacedGapMs: number;
  /** Sequential streams per target for the upstream keep-alive check (0 skips it). */
  reuseN: number;
  loadgen: LoadGen;
  upstream: Upstream;
  quietMaxWaitS: number;
  /** Before starting anything, wait up to this long for other jobs on the box to go quiet. */
  startQuietWaitS: number;
  quietWindowMs: number;
  loadgenCpu: string | null;
  gwCpu: string | null;
  outDir: string;
  keep: boolean;
  enforce: boolean;
  profileDurationS: number;
  profileConc: number;
  profileIntervalUs: number;
  /** A recorded run during which other processes used more than this many cores is measured again (once). */
  noisyCores: number;
  /** At most this many such re-runs per bench run (keeps the total time bounded). */
  maxRetries: number;
  /** Request body sizes (KB) of the body-size rows (JSON, c=32, floor and Tollgate); empty skips them. */
  bodySizesKb: number[];
  /** Measure the 500-frame stream row (SSE, c=32, floor and Tollgate) beside the 25-frame one. */
  longStream: boolean;
  /** Seconds per run of the size rows (body size, stream length), and of their warm-up per target. */
  sizeDurationS: number;
  sizeWarmupS: number;
}

export function readConfig(argv: string[]): BenchConfig {
  const quick = env.BENCH_QUICK === '1';
  const profile = argv.includes('--profile') || env.BENCH_PROFILE === '1';
  const requested = env.BENCH_LOADGEN as LoadGen | undefined;
  if (requested && requested !== 'wrk' && requested !== 'autocannon')
    throw new Error('BENCH_LOADGEN must be wrk or autocannon');
  if (requested === 'wrk' && !WRK_FOUND)
    throw new Error('BENCH_LOADGEN=wrk but wrk is not installed (apt-get install -y wrk)');
  const upstream = (env.BENCH_UPSTREAM ?? 'canned') as Upstream;
  if (upstream !== 'canned' && upstream !== 'tollgate-mock')
    throw new Error('BENCH_UPSTREAM must be canned or tollgate-mock');
  const twoCores = HAS_TASKSET && CPUS >= 2;
  return {
    quick,
    profile,
    durationS: num('BENCH_DURATION', quick ? 3 : 6),
    reps: Math.max(1, Math.round(num('BENCH_REPS', 1))),
    concs: (env.BENCH_CONCS ?? (quick ? '32' : '1,32,256')).split(',').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_CONCS: bad concurrency ${x}`);
      return n;
    }),
    modes: list<Mode>('BENCH_MODES', ['json', 'sse'], ['json', 'sse']),
    targets: list<TargetName>('BENCH_TARGETS', ['direct', 'floor', 'tollgate'], ['direct', 'floor', 'tollgate']),
    warmupS: num('BENCH_WARMUP', quick ? 1 : 2),
    probeN: Math.round(num('BENCH_PROBE_N', quick ? 300 : 2000)),
    probePacedN: Math.round(num('BENCH_PROBE_PACED_N', quick ? 20 : 60)),
    pacedGapMs: num('BENCH_PACED_GAP_MS', 20),
    reuseN: Math.round(num('BENCH_REUSE_N', 20)),
    loadgen: requested ?? (WRK_FOUND ? 'wrk' : 'autocannon'),
    upstream,
    quietMaxWaitS: num('BENCH_QUIET_MAX_WAIT', quick ? 0 : 2),
    startQuietWaitS: num('BENCH_START_QUIET_WAIT', quick ? 0 : 15),
    quietWindowMs: quick ? 250 : 500,
    loadgenCpu: twoCores ? (env.BENCH_LOADGEN_CPU ?? '0') : null,
    gwCpu: twoCores ? (env.BENCH_GW_CPU ?? '1') : null,
    outDir: env.BENCH_OUT ?? '.bench-out',
    keep: env.BENCH_KEEP === '1',
    enforce: env.BENCH_ENFORCE === '1',
    profileDurationS: num('BENCH_PROFILE_DURATION', quick ? 4 : 10),
    profileConc: Math.max(1, Math.round(num('BENCH_PROFILE_CONC', 32))),
    profileIntervalUs: Math.max(50, Math.round(num('BENCH_PROFILE_INTERVAL_US', 500))),
    noisyCores: num('BENCH_NOISY_CORES', 0.25),
    maxRetries: Math.round(num('BENCH_MAX_RETRIES', quick ? 0 : 2)),
    bodySizesKb:
      env.BENCH_SIZE_ROWS === '0'
        ? []
        : (env.BENCH_BODY_KB ?? (quick ? '1,256' : '1,32,256')).split(',').map((x) => {
            const n = Number(x);
            if (!Number.isInteger(n) || n < 1 || n > 2048) throw new Error(`BENCH_BODY_KB: bad size ${x}`);
            return n;
          }),
    longStream: env.BENCH_SIZE_ROWS !== '0',
    sizeDurationS: num('BENCH_SIZE_DURATION', quick ? 2 : 5),
    sizeWarmupS: num('BENCH_SIZE_WARMUP', quick ? 0 : 1),
  };
}
