import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { CLI, childEnv, freePort, startProcess, waitForHttp, type RunningProcess } from '../helpers/process.js';
import { parseResponses, rawConnect, receivedUntil, requestHead } from '../helpers/raw-http.js';

/**
 * Oversized bodies (issue 7, item 6): the 413 must reach a client that is still uploading —
 * not a reset (EPIPE) that the SDKs report as a connection error and upload again — and a client
 * that asks `Expect: 100-continue` must get its refusal before it sends the body. The gateway
 * runs in its own process: in the test's process the client's writes and the server's close
 * take turns on one event loop and the reset rarely shows.
 */

const THIRTY_MB = 30 * 1024 * 1024;
const ADMIN = 'admin-key-for-oversized-bodies-0123456789';
const messagesOf = (bytes: number) => [{ role: 'user' as const, content: 'x'.repeat(bytes) }];

describe('oversized bodies get their 413, not a reset (real process)', () => {
  let dir: string;
  let proc: RunningProcess;
  let base: string;
  let key: string;
  /** Requests the gateway refused with 413, from its log: one per upload it saw. */
  const refused413 = (): number =>
    proc
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"request rejected"') && line.includes('"status":413')).length;

  /** The 413s logged since `from`, once the log caught up with at least `expected` (it is written asynchronously). */
  const refusedSince = async (from: number, expected: number): Promise<number> => {
    for (let i = 0; i < 30 && refused413() - from < expected; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 200)); // and anything later, such as a re-upload
    return refused413() - from;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-oversized-'));
    const port = await freePort();
    const config = {
      server: { port },
      storage: { url: `sqlite:${join(dir, 'ledger.db')}` },
      log: { level: 'warn', format: 'json' },
      auth: { mode: 'keys' },
      admin: { apiKey: ADMIN },
      providers: { mock: { type: 'mock' } },
      models: { m: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
    };
    writeFileSync(join(dir, 'tollgate.yaml'), JSON.stringify(config));
    proc = startProcess(process.execPath, [CLI, 'serve', '--config', join(dir, 'tollgate.yaml')], { env: childEnv() });
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/ready`, proc);
    const admin = async (path: string, body: unknown): Promise<{ key: string }> => {
      const res = await fetch(`${base}/admin/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201);
      return (await res.json()) as { key: string };
    };
    await admin('/tenants', { id: 'acme' });
    key = (await admin('/keys', { tenant: 'acme' })).key;
  });
  after(async () => {
    proc.kill('SIGKILL');
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 30 MB upload through the official openai SDK (default retries) raises a 413 APIError 10 of 10, one upload each', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key }); // maxRetries: the default (2)
    const messages = messagesOf(THIRTY_MB);
    const before = refused413();
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        await client.chat.completions.create({ model: 'm', messages });
        outcomes.push('ok');
      } catch (err) {
        outcomes.push(err instanceof OpenAI.APIError ? `${err.constructor.name} ${err.status}` : String(err));
      }
    }
    const uploads = await refusedSince(before, 10);
    console.log(`openai SDK, 30 MB: ${JSON.stringify(outcomes)}; uploads seen by the server: ${uploads}`);
    assert.deepEqual(outcomes, Array(10).fill('APIError 413'));
    assert.equal(uploads, 10, 'exactly one upload per call: the SDK did not upload again');
  });

  for (const size of [THIRTY_MB, 4.5 * 1024 * 1024]) {
    it(`the same with Node's fetch, ${(size / 1024 / 1024).toFixed(1)} MB: 10 of 10 get the 413 in OpenAI's error JSON`, async () => {
      const body = JSON.stringify({ model: 'm', messages: messagesOf(size) });
      const before = refused413();
      const outcomes: (number | string)[] = [];
      for (let i = 0; i < 10; i++) {
        try {
          const res = await fetch(`${base}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
          });
          const json = (await res.json()) as { error: { code: string } };
          outcomes.push(res.status === 413 && json.error.code === 'payload_too_large' ? 413 : `${res.status}`);
        } catch (err) {
          outcomes.push(`${String(err)} ${String((err as { cause?: unknown }).cause)}`);
        }
      }
      console.log(`fetch, ${(size / 1024 / 1024).toFixed(1)} MB: ${JSON.stringify(outcomes)}`);
      assert.deepEqual(outcomes, Array(10).fill(413));
      assert.equal(await refusedSince(before, 10), 10);
    });
  }

  it('Expect: 100-continue with an oversized Content-Length gets the 413 before any body is sent', async () => {
    const conn = await rawConnect(base);
    conn.write(
      requestHead('POST', '/v1/chat/completions', {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-length': THIRTY_MB,
        expect: '100-continue',
      }),
    );
    const raw = await receivedUntil(conn, (r) => parseResponses(r).length > 0);
    conn.socket.destroy();
    const responses = parseResponses(raw);
    assert.deepEqual(
      responses.map((r) => r.status),
      [413],
      `no 100 Continue, only the refusal: ${raw.slice(0, 120)}`,
    );
    assert.equal((JSON.parse(responses[0]!.body) as { error: { code: string } }).error.code, 'payload_too_large');
  });

  it('Expect: 100-continue without a valid key gets the 401 before any body is sent', async () => {
    const conn = await rawConnect(base);
    conn.write(
      requestHead('POST', '/v1/chat/completions', {
        authorization: 'Bearer tg-not-a-real-key',
        'content-type': 'application/json',
        'content-length': 1000,
        expect: '100-continue',
      }),
    );
    const raw = await receivedUntil(conn, (r) => parseResponses(r).length > 0);
    conn.socket.destroy();
    assert.deepEqual(
      parseResponses(raw).map((r) => r.status),
      [401],
    );
  });

  it('Expect: 100-continue with a valid key and a fitting body gets 100 Continue, then the answer', async () => {
    const body = JSON.stringify({ model: 'm', messages: messagesOf(10) });
    const conn = await rawConnect(base);
    conn.write(
      requestHead('POST', '/v1/chat/completions', {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      }),
    );
    await receivedUntil(conn, (r) => r.includes('\r\n\r\n'));
    assert.match(conn.received(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    conn.write(body);
    const raw = await receivedUntil(conn, (r) => parseResponses(r).length > 1);
    conn.socket.destroy();
    assert.deepEqual(
      parseResponses(raw).map((r) => r.status),
      [100, 200],
    );
  });
});
