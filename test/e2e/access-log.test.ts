import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { ACCESS_LOG_FIELDS } from '../../src/observability/access-log.js';
import {
  CLI,
  REPO_ROOT,
  childEnv,
  freePort,
  startProcess,
  waitForHttp,
  type RunningProcess,
} from '../helpers/process.js';

// Issue 8, item 8: the access log goes through an asynchronous, buffered destination. Nothing
// may be lost on the way out: not on a graceful stop, not on a crash.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-access-log-'));
  dirs.push(dir);
  return dir;
}

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** Every stdout line as JSON (the gateway logs JSON lines; a line that is not one fails the test). */
function jsonLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

/** What `proc` writes to its stdout alone (stderr may interleave with the combined output). */
function stdoutOf(proc: RunningProcess): () => string {
  let out = '';
  proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

/** pino's own fields on every line. */
const ENVELOPE = ['level', 'time', 'service', 'pid', 'hostname', 'msg'];

describe('access log (real process)', () => {
  it('every call of a gateway stopped by SIGTERM right after its last answer has its access line', async () => {
    const dir = tempDir();
    const port = await freePort();
    const config = join(dir, 'tollgate.yaml');
    writeFileSync(
      config,
      [
        'server:',
        `  port: ${port}`,
        '  drainDelayMs: 0',
        `storage: { url: "sqlite:${join(dir, 'ledger.db')}" }`,
        'log: { level: info, format: json }',
        'providers:',
        '  mock: { type: mock }',
        'models:',
        '  fast:',
        '    deployments:',
        '      - { provider: mock, model: mock-fast }',
        '',
      ].join('\n'),
    );
    const gateway = startProcess(process.execPath, [CLI, 'serve', '--config', config], { env: childEnv() });
    const stdout = stdoutOf(gateway);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/ready`, gateway);

    // Enough lines to fill the destination's buffer many times over, the last ones still in it.
    const calls = 400;
    const pool = new Pool(base, { connections: 8 });
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < calls) {
          next += 1;
          const res = await pool.request({
            method: 'POST',
            path: '/v1/chat/completions',
            headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-secret-but-a-header' },
            body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
          });
          await res.body.text();
          statuses.push(res.statusCode);
        }
      }),
    );
    gateway.kill('SIGTERM');
    const exit = await gateway.exited;
    await pool.close();

    assert.deepEqual(exit, { code: 0, signal: null }, gateway.output());
    assert.equal(statuses.length, calls);
    assert.ok(
      statuses.every((s) => s === 200),
      `statuses: ${[...new Set(statuses)].join(', ')}`,
    );
    const lines = jsonLines(stdout());
    const access = lines.filter((line) => line.msg === 'request');
    assert.equal(access.length, calls, 'one access line per call, none lost in the buffer');
    assert.equal(new Set(access.map((line) => line.callId)).size, calls);
    assert.equal(lines.at(-1)?.msg, 'shutdown complete', 'the last line is written, after every access line');
    const allowed = new Set<string>([...ENVELOPE, ...ACCESS_LOG_FIELDS]);
    for (const line of access) {
      const extra = Object.keys(line).filter((key) => !allowed.has(key));
      assert.deepEqual(extra, [], 'an access line holds only its known-safe fields');
    }
    assert.ok(!gateway.output().includes('not-a-secret-but-a-header'));
  });

  it('a crash (uncaught exception) still writes every buffered line, and its reason as a fatal line', async () => {
    const dir = tempDir();
    const script = join(dir, 'crash.ts');
    const logger = pathToFileURL(join(REPO_ROOT, 'src/observability/logger.ts')).href;
    writeFileSync(
      script,
      [
        `import { createLogger, logFatalExits } from ${JSON.stringify(logger)};`,
        `const log = createLogger({ level: 'info', format: 'json' });`,
        'logFatalExits(log);',
        `for (let i = 0; i < 500; i++) log.info({ i }, 'line');`,
        `setImmediate(() => { throw new Error('boom'); });`,
        '',
      ].join('\n'),
    );
    const child = startProcess(process.execPath, ['--import', 'tsx', script], { env: childEnv() });
    const stdout = stdoutOf(child);
    const exit = await child.exited;
    assert.deepEqual(exit, { code: 1, signal: null }, child.output());
    const lines = jsonLines(stdout());
    assert.deepEqual(
      lines.filter((line) => line.msg === 'line').map((line) => line.i),
      Array.from({ length: 500 }, (_, i) => i),
    );
    const fatal = lines.find((line) => line.level === 'fatal');
    assert.equal(fatal?.msg, 'uncaught exception: exiting');
    assert.match(JSON.stringify(fatal?.err), /boom/);
  });
});
