import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { request } from 'undici';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Issue 7 item 7: an upstream's `retry-after` is remembered across requests. The primary is a
 * mock server answering every call with 429 and a `retry-after` (scenario fault injection); the
 * backup is a healthy mock. Calls are counted at each mock.
 */

/** `/health` shows deployments (breakers, pauses) to the admin key only. */
const ADMIN = 'admin-key-for-health-detail-0123456789';

interface PauseStatus {
  remainingMs: number;
  status: number;
  askedMs: number;
  until: string;
}

async function pauseOf(gw: TestGateway, id: string): Promise<PauseStatus | null> {
  const res = await request(`${gw.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.body.json()) as { models: { deployments: { id: string; pause: PauseStatus | null }[] }[] };
  const deployment = body.models[0]?.deployments.find((d) => d.id === id);
  assert.ok(deployment, `${id} in /health`);
  return deployment.pause;
}

function setup(retryAfterS: number, retry: Record<string, number> = {}) {
  const state = {} as { gw: TestGateway; primary: MockServer; backup: MockServer; client: OpenAI };
  before(async () => {
    state.primary = await startMockServer({ port: 0, scenario: { errors: [{ status: 429, rate: 1, retryAfterS }] } });
    state.backup = await startMockServer({ port: 0 });
    state.gw = await startTestGateway({
      admin: { apiKey: ADMIN },
      providers: {
        primary: { type: 'openai', baseUrl: `${state.primary.url}/v1` },
        backup: { type: 'openai', baseUrl: `${state.backup.url}/v1` },
      },
      models: {
        chat: {
          retry,
          deployments: [
            { id: 'primary', provider: 'primary', model: 'gpt-4o-mini' },
            { id: 'backup', provider: 'backup', model: 'gpt-4o-mini' },
          ],
        },
      },
    });
    state.client = new OpenAI({ baseURL: `${state.gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
  });
  after(async () => {
    await state.gw.close();
    await state.primary.close();
    await state.backup.close();
  });
  return state;
}

async function ask(client: OpenAI): Promise<{ deployment: string | null; attempts: string | null }> {
  const { response } = await client.chat.completions
    .create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] })
    .withResponse();
  assert.equal(response.status, 200);
  return {
    deployment: response.headers.get('x-tollgate-deployment'),
    attempts: response.headers.get('x-tollgate-attempts'),
  };
}

describe('a 429 with retry-after: 5 pauses the primary across requests', () => {
  const state = setup(5);

  it('ten requests in the window → exactly one call to the primary, every answer from the backup', async () => {
    const started = performance.now();
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { deployment, attempts } = await ask(state.client);
      served.push(`${deployment}:${attempts}`);
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 4_500, `the ten requests fit in the 5 s window (took ${Math.round(elapsed)} ms)`);
    assert.equal(state.primary.received, 1, 'only the call that got the 429');
    assert.equal(state.backup.received, 10);
    assert.deepEqual(served, ['backup:2', ...Array<string>(9).fill('backup:1')]);
    const pause = await pauseOf(state.gw, 'primary');
    assert.ok(pause, 'GET /health shows the pause');
    assert.equal(pause.status, 429);
    assert.equal(pause.askedMs, 5_000);
    assert.ok(pause.remainingMs > 0 && pause.remainingMs <= 5_000, `remainingMs ${pause.remainingMs}`);
    assert.ok(Date.parse(pause.until) > Date.now());
    assert.equal(await pauseOf(state.gw, 'backup'), null);
  });
});

describe('a 1 s retry-after: the primary is tried again once the pause is over', () => {
  // retry-after above retryAfterMaxMs: no retry on the primary, straight to the backup.
  const state = setup(1, { retryAfterMaxMs: 500 });

  it('skipped inside the window, called again after it', async () => {
    const sent = performance.now();
    assert.deepEqual(await ask(state.client), { deployment: 'backup', attempts: '2' });
    const answered = performance.now();
    assert.equal(state.primary.received, 1);
    // Requests sent less than 1 s after the first one was sent are certainly inside the window.
    let inside = 0;
    while (performance.now() - sent < 800) {
      assert.deepEqual(await ask(state.client), { deployment: 'backup', attempts: '1' });
      inside++;
      await sleep(50);
    }
    assert.ok(inside > 0);
    assert.equal(state.primary.received, 1, `no call to the primary during the pause (${inside} requests)`);
    // The pause began when the 429 arrived, before `answered`: 1 s later it is over.
    await sleep(Math.max(0, answered + 1_050 - performance.now()));
    assert.equal(await pauseOf(state.gw, 'primary'), null);
    assert.deepEqual(await ask(state.client), { deployment: 'backup', attempts: '2' });
    assert.equal(state.primary.received, 2, 'the primary was tried again');
  });
});
