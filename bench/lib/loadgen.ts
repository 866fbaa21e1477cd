// The two load generators behind one function: wrk (preferred; C, one thread) with
// bench/chat.lua, or autocannon in its own Node process (bench/tools/autocannon-run.ts).
// Both are closed-loop: `conc` connections, each sending its next request when the previous
// answer (for SSE: the whole stream) has ended.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './config.js';
import { runToEnd } from './procs.js';
import { CHAT_PATH, chatBody } from './wire.js';

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses with a status >= 400 (wrk) / outside 2xx (autocannon). */
  errStatus: number;
  /** Connect, read and write errors. */
  errSocket: number;
  errTimeout: number;
}

const LUA = fileURLToPath(new URL('../chat.lua', import.meta.url));
const AUTOCANNON = fileURLToPath(new URL('../tools/autocannon-run.ts', import.meta.url));

interface Raw {
  requests: number;
  duration_us: number;
  rps: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
  err_connect: number;
  err_read: number;
  err_write: number;
  err_status: number;
  err_timeout: number;
}

export interface LoadOptions {
  /** The target's origin, with a path prefix for the long-stream variant (`http://host:port/long`). */
  url: string;
  model: string;
  conc: number;
  durationS: number;
  stream: boolean;
  label: string;
  /** The virtual key, sent as `authorization: Bearer …` to every target. */
  key: string;
  /** Pad the request body to this many bytes (chatBody); default: the 330-byte request. */
  bodyBytes?: number;
  /** Where wrk's request body file is written. */
  scratch: string;
}

/** wrk reads its body from a file (a 256 KB body does not fit in an environment variable). */
function bodyFile(opts: LoadOptions): string {
  const file = join(opts.scratch, `body-${opts.model}-${opts.stream ? 'sse' : 'json'}-${opts.bodyBytes ?? 0}.json`);
  if (!existsSync(file)) writeFileSync(file, chatBody(opts.stream, opts.model, opts.bodyBytes));
  return file;
}

export async function runLoad(cfg: BenchConfig, opts: LoadOptions, onPid?: (pid: number) => void): Promise<LoadResult> {
  const timeoutMs = (opts.durationS + 30) * 1000;
  const url = new URL(opts.url);
  const path = url.pathname.replace(/\/$/, '') + CHAT_PATH;
  const run =
    cfg.loadgen === 'wrk'
      ? await runToEnd(
          cfg.loadgenCpu,
          'wrk',
          ['-t1', `-c${opts.conc}`, `-d${opts.durationS}s`, '--timeout', '10s', '-s', LUA, url.origin],
          {
            BODY_FILE: bodyFile(opts),
            CHAT_PATH: path,
            AUTHORIZATION: `Bearer ${opts.key}`,
            LABEL: opts.label,
          },
          timeoutMs,
          onPid,
        )
      : await runToEnd(
          cfg.loadgenCpu,
          process.execPath,
          ['--import', 'tsx', AUTOCANNON],
          {
            AC_ARGS: JSON.stringify({
              url: opts.url,
              connections: opts.conc,
              durationS: opts.durationS,
              stream: opts.stream,
              model: opts.model,
              key: opts.key,
              bodyBytes: opts.bodyBytes,
            }),
          },
          timeoutMs,
          onPid,
        );
  const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line)
    throw new Error(
      `${cfg.loadgen} printed no result for ${opts.label} (exit ${run.code}): ${(run.stdout + run.stderr).slice(-600)}`,
    );
  const r = JSON.parse(line) as Raw;
  return {
    requests: r.requests,
    durationS: r.duration_us / 1e6,
    rps: r.rps,
    meanMs: r.mean_us / 1000,
    p50Ms: r.p50_us / 1000,
    p90Ms: r.p90_us / 1000,
    p99Ms: r.p99_us / 1000,
    maxMs: r.max_us / 1000,
    errStatus: r.err_status,
    errSocket: r.err_connect + r.err_read + r.err_write,
    errTimeout: r.err_timeout,
  };
}
