import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import pino from 'pino';
import { request } from 'undici';
import { countTextTokens } from '../../src/tokens/tokens.js';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/process.js';

/**
 * Resilience over real sockets: the gateway on one, mock upstreams on others (or on nothing at
 * all: a closed port). Timing assertions are bounds that hold on a loaded 2-core machine; the
 * ±10 % timeout precision is shown on the fake clock (src/policies/timeout.test.ts).
 */

const messages = [{ role: 'user' as const, content: 'Name three rivers in Europe.' }];

interface HealthDeployment {
  id: string;
  breaker: { state: string; consecutiveFailures: number; opened: number };
}

/** `/health` lists deployments and breakers to the admin key only. */
const ADMIN = 'admin-key-for-resilience-tests-0123456789';

async function breakerOf(gw: TestGateway, alias: string, id: string): Promise<HealthDeployment['breaker']> {
  const res = await request(`${gw.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.body.json()) as { models: { alias: string; deployments: HealthDeployment[] }[] };
  const deployment = body.models.find((m) => m.alias === alias)?.deployments.find((d) => d.id === id);
  assert.ok(deployment, `${alias}/${id} in /health`);
  return deployment.breaker;
}

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

describe('breaker and fallback with the primary refusing connections', () => {
  let port: number;
  let backup: MockServer;
  let revived: MockServer | undefined;
  let gw: TestGateway;
  let client: OpenAI;
  const logs: Record<string, unknown>[] = [];

  before(async () => {
    port = await freePort(); // nothing listens there: connections are refused
    backup = await startMockServer({ port: 0 });
    gw = await startTestGateway(
      {
        admin: { apiKey: ADMIN },
        providers: {
          primary: { type: 'openai', baseUrl: `http://127.0.0.1:${port}/v1`, timeouts: { connectMs: 2_000 } },
          backup: { type: 'openai', baseUrl: `${backup.url}/v1` },
        },
        models: {
          chat: {
            retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 20 },
            breaker: { consecutiveFailures: 3, openMs: 1_500, halfOpenProbes: 2 },
            deployments: [
              { id: 'primary', provider: 'primary', model: 'gpt-4o-mini' },
              { id: 'backup', provider: 'backup', model: 'gpt-4o-mini' },
            ],
          },
        },
      },
      { logger: capturingLogger(logs) },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
  });

  after(async () => {
    await gw.close();
    await backup.close();
    await revived?.close();
  });

  const call = () => client.chat.completions.create({ model: 'chat', messages }).withResponse();

  it('every call succeeds through the fallback; the breaker opens after the configured 3 failures', async () => {
    for (let i = 1; i <= 3; i++) {
      const { response } = await call();
      assert.equal(response.headers.get('x-tollgate-deployment'), 'backup');
      assert.equal(response.headers.get('x-tollgate-attempts'), '3', 'primary twice (one retry), then backup');
      assert.equal((await breakerOf(gw, 'chat', 'primary')).state, i < 3 ? 'closed' : 'open');
    }
    const access = logs.filter((l) => l.msg === 'request');
    assert.deepEqual(access.at(-1)?.attemptLog, [
      'primary:upstream_unavailable:503',
      'primary:upstream_unavailable:503',
      'backup:ok:200',
    ]);
    assert.equal(access.at(-1)?.fallbackUsed, true);
    const opened = logs.find((l) => l.msg === 'circuit breaker opened');
    assert.ok(opened, 'the transition is logged');
    assert.equal(opened.deployment, 'primary');
    assert.match(String(opened.reason), /3 consecutive failures, last: upstream_unavailable/);
  });

  it('while open, calls go straight to the fallback: one attempt, no connect attempt or timeout paid', async () => {
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const { response } = await call();
      const elapsed = performance.now() - started;
      assert.equal(response.headers.get('x-tollgate-deployment'), 'backup');
      assert.equal(response.headers.get('x-tollgate-attempts'), '1');
      assert.ok(elapsed < 1_000, `${elapsed.toFixed(0)} ms: far below the 2 s connect timeout`);
    }
    assert.equal((await breakerOf(gw, 'chat', 'primary')).state, 'open');
  });

  it('after the open period, half-open probes reach the revived primary and close the circuit', async () => {
    revived = await startMockServer({ port });
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    assert.equal((await breakerOf(gw, 'chat', 'primary')).state, 'half_open');
    for (let i = 0; i < 2; i++) {
      const { response } = await call();
      assert.equal(response.headers.get('x-tollgate-deployment'), 'primary', `probe ${i + 1} goes to the primary`);
    }
    const state = await breakerOf(gw, 'chat', 'primary');
    assert.equal(state.state, 'closed');
    assert.equal(state.opened, 1);
    assert.deepEqual(
      logs.filter((l) => String(l.msg).startsWith('circuit breaker')).map((l) => l.to),
      ['open', 'half_open', 'closed'],
    );
    const { response } = await call();
    assert.equal(response.headers.get('x-tollgate-deployment'), 'primary');
    assert.equal(response.headers.get('x-tollgate-attempts'), '1');
  });
});

describe('timeouts and cut streams over real sockets', () => {
  let mock: MockServer;
  let gw: TestGateway;
  let client: OpenAI;
  let dir: string;
  let ledgerFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-resilience-'));
    ledgerFile = join(dir, 'ledger.db');
    mock = await startMockServer({ port: 0 });
    gw = await startTestGateway({
      storage: { url: `sqlite:${ledgerFile}` },
      admin: { apiKey: ADMIN },
      providers: { up: { type: 'openai', baseUrl: `${mock.url}/v1`, forwardHeaders: ['x-mock-*'] } },
      models: {
        chat: {
          retry: { maxAttempts: 1 },
          timeouts: { firstByteMs: 400, stallMs: 300 },
          deployments: [{ id: 'up', provider: 'up', model: 'gpt-4o-mini' }],
        },
      },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
  });

  after(async () => {
    await gw.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('time to first token: 504 upstream_timeout naming firstByteMs, no sooner than the limit', async () => {
    const slow = client.withOptions({ defaultHeaders: { 'x-mock-ttft-ms': '10000' } });
    const started = performance.now();
    await assert.rejects(slow.chat.completions.create({ model: 'chat', messages, stream: true }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 504);
      assert.equal(err.code, 'upstream_timeout');
      assert.match(err.message, /no first token within 400 ms \(timeouts\.firstByteMs\)/);
      assert.equal(err.headers.get('x-tollgate-timeout'), 'firstByteMs');
      assert.equal(err.headers.get('x-tollgate-attempts'), '1', 'error responses say how many attempts were made too');
      return true;
    });
    const elapsed = performance.now() - started;
    // Lower bound tight (the timer cannot fire early); upper bound generous for a loaded machine.
    assert.ok(elapsed >= 395 && elapsed < 1_500, `fired after ${elapsed.toFixed(0)} ms for a 400 ms limit`);
  });

  it('stall after 3 chunks: the SDK gets them, then raises on the in-band stream_stalled event', async () => {
    const stalling = client.withOptions({
      defaultHeaders: { 'x-mock-stall-after': '3', 'x-mock-chunk-delay-ms': '5' },
    });
    const stream = await stalling.chat.completions.create({ model: 'chat', messages, stream: true });
    let content = 0;
    let lastChunkAt = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta.content) content++;
          lastChunkAt = performance.now();
        }
      })(),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.match(err.message, /stalled: no chunk for 300 ms \(timeouts\.stallMs\)/);
        return true;
      },
    );
    const silence = performance.now() - lastChunkAt;
    assert.equal(content, 3);
    // The gateway starts the stall clock when it asks for the next chunk, a little before the client sees the
    // last one (client and gateway share this process), so the lower bound leaves room for that.
    assert.ok(silence >= 200 && silence < 1_500, `cut ${silence.toFixed(0)} ms after the last chunk (limit 300)`);
  });

  it('cut after 5 chunks: the SDK sees the 5 chunks then raises; the ledger says truncated with the streamed tokens', async () => {
    const failuresBefore = (await breakerOf(gw, 'chat', 'up')).consecutiveFailures; // the timeouts above count too
    const cutting = client.withOptions({ defaultHeaders: { 'x-mock-cut-after': '5', 'x-request-id': 'cut-after-5' } });
    const stream = await cutting.chat.completions.create({ model: 'chat', messages, stream: true });
    const texts: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta.content;
          if (text) texts.push(text);
        }
      })(),
      (err: unknown) => err instanceof OpenAI.APIError && /stream failed after it started/.test(err.message),
    );
    assert.equal(texts.length, 5);
    const breaker = await breakerOf(gw, 'chat', 'up');
    assert.equal(breaker.consecutiveFailures, failuresBefore + 1, 'the breaker counts the broken stream');
    await gw.close(); // flushes the ledger
    const db = new Database(ledgerFile, { readonly: true });
    try {
      const row = db.prepare('select * from requests where request_id = ?').get('cut-after-5') as Record<
        string,
        number | string
      >;
      assert.equal(row.outcome, 'truncated');
      assert.equal(row.status, 200);
      assert.equal(row.error_code, 'upstream_error');
      assert.equal(row.estimated, 1);
      assert.equal(row.output_tokens, countTextTokens(texts.join('')));
      assert.ok(Number(row.input_tokens) > 5);
      assert.equal(row.attempts, 1);
      assert.equal(row.deployment, 'up');
    } finally {
      db.close();
    }
  });
});
