import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The `tollgate` command from the TypeScript sources (through tsx), so tests never run a stale dist/; test/e2e/package.test.ts covers dist/. */
export const CLI = fileURLToPath(new URL('../../bin/tollgate-dev.js', import.meta.url));

/** A free loopback port (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts a command with its output captured; the process is killed if the test forgets it. */
export function startProcess(
  command: string,
  args: string[],
  /** `detached`: in a process group of its own, as a shell runs a foreground job (signal it with `process.kill(-pid)`). */
  options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached === true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const cleanup = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', cleanup);
  return { child, output: () => out, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

/** A clean environment for a child gateway: no provider keys, no inherited Tollgate settings, quiet JSON logs. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(OPENAI_|ANTHROPIC_|TOLLGATE_|PORT$|HOST$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Polls `url` until it answers 200 or the deadline passes (then throws with the process output). */
export async function waitForHttp(url: string, proc: RunningProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`process exited (${proc.child.exitCode}) before ${url} answered:\n${proc.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
