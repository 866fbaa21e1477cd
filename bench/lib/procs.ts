// Process plumbing for the bench: start pinned children, wait for their ports, read CPU and
// memory from /proc, measure what other processes on a shared box are using, stop by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export const HZ = 100; // USER_HZ on Linux
export const HAS_TASKSET = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
export const CPUS = (() => {
  try {
    return (
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('processor')).length || 1
    );
  } catch {
    return 1;
  }
})();

/** `taskset -c cpu cmd...` when taskset exists (it execs, so the PID is the command's), else the command. */
export function pinned(cpu: string | null, cmd: string, args: string[]): [string, string[]] {
  if (!HAS_TASKSET || cpu === null) return [cmd, args];
  return ['taskset', ['-c', cpu, cmd, ...args]];
}

/** Pins every thread of this process (the orchestrator) to `cpu`. */
export function pinSelf(cpu: string): void {
  if (HAS_TASKSET) spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' });
}

export interface Started {
  name: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** Set by stop() / killAllStarted(): an exit before that is reported on stderr. */
  stopping?: boolean;
}

const started: Started[] = [];

/** Starts a long-running child with stdout+stderr to `logFile`. */
export function start(
  name: string,
  cpu: string | null,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
): Started {
  const [c, a] = pinned(cpu, cmd, args);
  // The child writes its log straight to the file, as a service writes to its log file or to a
  // container runtime's fast pipe: relaying it through this process (pinned on the busy
  // load-generator core) filled the pipe and made every log write of the gateway under test wait.
  const fd = openSync(logFile, 'a');
  const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const s: Started = { name, child, pid: child.pid!, exited: Promise.resolve(null) };
  s.exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // A helper that dies mid-run (a crash, or a signal from outside the bench) would otherwise
      // only show up later as ECONNREFUSED: say who, when and how.
      if (!s.stopping)
        process.stderr.write(
          `[bench ${new Date().toISOString().slice(11, 19)}] ${name} (pid ${s.pid}) exited unexpectedly: code ${code}, signal ${signal} (log: ${logFile})\n`,
        );
      resolve(code);
    }),
  );
  started.push(s);
  return s;
}

/** Stops one child by PID (SIGTERM, then SIGKILL after `graceMs`); resolves with its exit code. */
export async function stop(s: Started, graceMs = 5000): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  s.stopping = true;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
  const code = await s.exited;
  clearTimeout(timer);
  return code;
}

/** Kills whatever this bench started and is still running (used on errors and signals). */
export function killAllStarted(): void {
  for (const s of started)
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.stopping = true;
      s.child.kill('SIGKILL');
    }
}

/** Runs a child to completion, collecting stdout; bounded by `timeoutMs`. */
export function runToEnd(
  cpu: string | null,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  onPid?: (pid: number) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [c, a] = pinned(cpu, cmd, args);
  return new Promise((resolve) => {
    const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (onPid && child.pid) onPid(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects after `timeoutMs` or if `s` exits. */
export async function waitForPort(port: number, timeoutMs: number, s?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (s && (s.child.exitCode !== null || s.child.signalCode !== null))
      throw new Error(`${s.name} exited before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime+stime ticks and parent PID of one process, or null when it is gone. */
export function procTicks(pid: number): { ticks: number; ppid: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(f[11]) + Number(f[12]), ppid: Number(f[1]) };
  } catch {
    return null;
  }
}

/** Resident set size in MB, or null. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export const HAS_PROC = existsSync('/proc/self/stat');

type Snapshot = Map<number, { ticks: number; ppid: number }>;
export function snapshotAll(): Snapshot {
  const out: Snapshot = new Map();
  if (!HAS_PROC) return out;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const c = procTicks(Number(d));
    if (c) out.set(Number(d), c);
  }
  return out;
}

/** This process, its ancestors (npm, shell) and every descendant (servers, load generators, esbuild). */
function ours(snap: Snapshot): Set<number> {
  const mine = new Set<number>();
  for (let p = process.pid; p > 1 && !mine.has(p); p = snap.get(p)?.ppid ?? 0) mine.add(p);
  for (const pid of snap.keys()) {
    const chain: number[] = [];
    for (let p = pid; p > 1 && chain.length < 64; p = snap.get(p)?.ppid ?? 0) {
      if (p === process.pid) {
        for (const c of chain) mine.add(c);
        break;
      }
      chain.push(p);
    }
  }
  return mine;
}

/**
 * CPU seconds used between two snapshots by processes that are not part of the bench (other
 * jobs on a shared box). Kernel threads are left out; so are `extra` PIDs (children already gone).
 */
export function foreignCpuS(
  a: Snapshot,
  b: Snapshot,
  extra: ReadonlySet<number> = new Set(),
): { seconds: number; top: [number, number][] } {
  const mine = ours(b);
  for (const p of ours(a)) mine.add(p);
  let seconds = 0;
  const top: [number, number][] = [];
  for (const [pid, cb] of b) {
    if (mine.has(pid) || extra.has(pid) || pid === 2 || cb.ppid === 2) continue;
    const d = cb.ticks - (a.get(pid)?.ticks ?? 0);
    if (d <= 0) continue;
    seconds += d / HZ;
    top.push([pid, d / HZ]);
  }
  top.sort((x, y) => y[1] - x[1]);
  return { seconds, top: top.slice(0, 3) };
}

/** Command line of a PID (for naming whoever else was busy). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 80);
  } catch {
    return '?';
  }
}

/**
 * Waits (bounded) until processes outside the bench use less than `threshold` cores over `windowMs`, so
 * that a run does not start while another job on a shared box is busy.
 */
export async function waitQuiet(
  maxWaitS: number,
  windowMs = 1000,
  threshold = 0.15,
): Promise<{ waitedS: number; foreign: number }> {
  const t0 = Date.now();
  for (;;) {
    const a = snapshotAll();
    await sleep(windowMs);
    const f = foreignCpuS(a, snapshotAll()).seconds / (windowMs / 1000);
    const waitedS = (Date.now() - t0) / 1000;
    if (f < threshold || waitedS >= maxWaitS || !HAS_PROC) return { waitedS, foreign: f };
    await sleep(500);
  }
}

/** Per-CPU busy and total jiffies from /proc/stat (`cpu0`, `cpu1`, ...). */
export function cpuTimes(): Map<string, { busy: number; total: number }> {
  const out = new Map<string, { busy: number; total: number }>();
  if (!HAS_PROC) return out;
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    out.set(m[1]!, { busy: total - idle, total });
  }
  return out;
}

/** Busy share (0..1) of `cpu` between two `cpuTimes()` readings. */
export function busyShare(
  a: Map<string, { busy: number; total: number }>,
  b: Map<string, { busy: number; total: number }>,
  cpu: string | null,
): number | null {
  if (cpu === null) return null;
  const x = a.get(cpu);
  const y = b.get(cpu);
  if (!x || !y || y.total === x.total) return null;
  return (y.busy - x.busy) / (y.total - x.total);
}
