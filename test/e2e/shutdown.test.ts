import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { CLI, childEnv, freePort, startProcess, waitForHttp } from '../helpers/process.js';

interface StreamOutcome {
  status: number;
  content: string;
  done: boolean;
  errorEvent: { code: string; message: string } | null;
}

/** Reads one SSE chat stream to its end, keeping the text, whether [DONE] came, and any error event. */
async function readStream(pool: Pool, onFirstChunk: () => void): Promise<StreamOutcome> {
  const res = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'slow',
      stream: true,
      messages: [{ role: 'user', content: 'Tell me a long story' }],
    }),
  });
  const outcome: StreamOutcome = { status: res.statusCode, content: '', done: false, errorEvent: null };
  let buffer = '';
  let first = true;
  res.body.setEncoding('utf8');
  for await (const text of res.body as AsyncIterable<string>) {
    buffer += text;
    let index: number;
    while ((index = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      const data = frame.replace(/^data: /, '');
      if (data === '[DONE]') {
        outcome.done = true;
        continue;
      }
      const event = JSON.parse(data) as {
        choices?: { delta: { content?: string } }[];
        error?: { code: string; message: string };
      };
      if (event.error) outcome.errorEvent = event.error;
      outcome.content += event.choices?.[0]?.delta.content ?? '';
      if (first) {
        first = false;
        onFirstChunk();
      }
    }
  }
  return outcome;
}

function writeConfig(
  dir: string,
  port: number,
  scenario: { chunkDelayMs: number; completionTokens: number },
  server: Record<string, number>,
): string {
  const path = join(dir, 'tollgate.yaml');
  writeFileSync(
    path,
    [
      'server:',
      `  port: ${port}`,
      ...Object.entries(server).map(([k, v]) => `  ${k}: ${v}`),
      'storage:',
      `  url: sqlite:${join(dir, 'ledger.db')}`,
      'log:',
      '  level: info',
      '  format: json',
      'providers:',
      '  mock:',
      '    type: mock',
      '    scenario:',
      `      chunkDelayMs: ${scenario.chunkDelayMs}`,
      `      completionTokens: ${scenario.completionTokens}`,
      'models:',
      '  slow:',
      '    deployments:',
      '      - provider: mock',
      '        model: mock-slow',
      '',
    ].join('\n'),
  );
  return path;
}

function ledgerRows(
  dir: string,
): { outcome: string; status: number; output_tokens: number; stream: number; estimated: number }[] {
  const db = new Database(join(dir, 'ledger.db'), { readonly: true });
  try {
    return db.prepare('select outcome, status, output_tokens, stream, estimated from requests').all() as ReturnType<
      typeof ledgerRows
    >;
  } finally {
    db.close();
  }
}

/** Starts 50 streams, sends SIGTERM once every stream has its first chunk. */
async function fiftyStreamsThenSigterm(
  dir: string,
  server: Record<string, number>,
  scenario: { chunkDelayMs: number; completionTokens: number },
) {
  const port = await freePort();
  const config = writeConfig(dir, port, scenario, server);
  const gateway = startProcess(process.execPath, [CLI, 'serve', '--config', config], { env: childEnv() });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health/ready`, gateway);
  const pool = new Pool(base, { connections: 64 });
  let started = 0;
  let allStarted!: () => void;
  const everyoneStarted = new Promise<void>((resolve) => (allStarted = resolve));
  const streams = Array.from({ length: 50 }, () =>
    readStream(pool, () => {
      if (++started === 50) allStarted();
    }),
  );
  await everyoneStarted;
  gateway.kill('SIGTERM');
  return { gateway, base, pool, streams };
}

describe('graceful shutdown (real process, SIGTERM)', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('with 50 streams in flight: readiness turns 503, all 50 complete, all 50 ledger rows exist, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-shutdown-'));
    dirs.push(dir);
    // Each stream lasts ~1.2 s after SIGTERM; the grace period is far longer.
    const { gateway, base, pool, streams } = await fiftyStreamsThenSigterm(
      dir,
      { drainDelayMs: 300, shutdownGraceMs: 15_000 },
      { chunkDelayMs: 40, completionTokens: 30 },
    );

    // The signal is delivered asynchronously: readiness must turn 503 promptly, while the streams still run.
    const signalled = Date.now();
    let ready = await fetch(`${base}/health/ready`);
    while (ready.status === 200 && Date.now() - signalled < 3_000) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await fetch(`${base}/health/ready`);
    }
    assert.equal(ready.status, 503, 'readiness must fail as soon as SIGTERM arrives');
    const live = await fetch(`${base}/health/live`);
    assert.equal(live.status, 200, 'liveness stays up while draining');

    const outcomes = await Promise.all(streams);
    await pool.close();
    const exit = await gateway.exited;

    assert.equal(outcomes.length, 50);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 200);
      assert.equal(outcome.errorEvent, null);
      assert.equal(outcome.done, true, 'every stream ends with [DONE]');
      assert.ok(outcome.content.length > 50);
    }
    assert.deepEqual(exit, { code: 0, signal: null }, gateway.output());
    const rows = ledgerRows(dir);
    assert.equal(rows.length, 50, 'one ledger row per stream, flushed before exit');
    for (const row of rows) {
      assert.equal(row.outcome, 'ok');
      assert.equal(row.status, 200);
      assert.equal(row.stream, 1);
      assert.equal(row.output_tokens, 30);
    }
    assert.match(gateway.output(), /shutdown complete/);
  });

  it('streams still open at the grace deadline get a final SSE error event, are recorded truncated, and the process exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-shutdown-'));
    dirs.push(dir);
    // Each stream would take ~8 s; the grace period is 400 ms.
    const { gateway, pool, streams } = await fiftyStreamsThenSigterm(
      dir,
      { drainDelayMs: 0, shutdownGraceMs: 400 },
      { chunkDelayMs: 100, completionTokens: 80 },
    );
    const outcomes = await Promise.all(streams);
    await pool.close();
    const exit = await gateway.exited;

    for (const outcome of outcomes) {
      assert.equal(outcome.done, false, 'a cut stream must not end with [DONE]');
      assert.equal(outcome.errorEvent?.code, 'shutting_down');
      assert.ok(outcome.content.length > 0);
    }
    assert.deepEqual(exit, { code: 0, signal: null }, gateway.output());
    const rows = ledgerRows(dir);
    assert.equal(rows.length, 50);
    for (const row of rows) {
      assert.equal(row.outcome, 'truncated');
      // The usage chunk never came: the tokens that were streamed are counted locally.
      assert.equal(row.estimated, 1);
      assert.ok(row.output_tokens > 0 && row.output_tokens < 80, `output_tokens ${row.output_tokens}`);
    }
  });
});
