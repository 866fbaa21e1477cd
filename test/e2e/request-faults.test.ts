import assert from 'node:assert/strict';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies read back in assertions */
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Issue 7 item 2: one tenant's deeply nested bodies must not take an alias down for everyone.
 * Each body nests 20,000 levels in a field the schema passes through; six of each go to the
 * gateway, then every breaker must still be closed and another tenant served. Twice: with the
 * default depth limit (refused at validation) and with the limit lifted, so the body reaches the
 * upstream adapter and the serializer overflows (the request's fault: 400, no retry, no fallback,
 * no breaker failure).
 */

const DEPTH = 20_000;
const deepJson = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const chatBody = (carrier: string): string => {
  const base = '"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"x"}]';
  switch (carrier) {
    case 'extra':
      return `{${base},"extra":${deepJson}}`;
    case 'response_format':
      return `{${base},"response_format":{"type":"json_schema","json_schema":${deepJson}}}`;
    case 'logit_bias':
      return `{${base},"logit_bias":{"50256":${deepJson}}}`;
    default:
      return `{${base},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","x":${deepJson}}}}]}`;
  }
};
const CARRIERS = ['extra', 'response_format', 'logit_bias', 'tools[].function.parameters'];

/** `/health` shows deployments (breakers, pauses) to the admin key only. */
const ADMIN = 'admin-key-for-health-detail-0123456789';

interface Health {
  models: {
    alias: string;
    deployments: { id: string; breaker: { state: string; consecutiveFailures: number; opened: number } }[];
  }[];
}

async function breakers(gw: TestGateway): Promise<string[]> {
  const res = await request(`${gw.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.body.json()) as Health;
  return body.models.flatMap((m) =>
    m.deployments.map(
      (d) => `${m.alias}/${d.id}:${d.breaker.state}:${d.breaker.consecutiveFailures}:${d.breaker.opened}`,
    ),
  );
}

async function post(gw: TestGateway, path: string, key: string, body: string) {
  const res = await request(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, any> };
}

function setup(requests: Record<string, number> | undefined) {
  const state = {} as { gw: TestGateway; primary: MockServer; backup: MockServer; attacker: string; victim: string };
  before(async () => {
    state.primary = await startMockServer({ port: 0 });
    state.backup = await startMockServer({ port: 0 });
    const deployments = [
      { id: 'primary', provider: 'primary', model: 'gpt-4o-mini' },
      { id: 'backup', provider: 'backup', model: 'gpt-4o-mini' },
    ];
    state.gw = await startTestGateway({
      admin: { apiKey: ADMIN },
      auth: { mode: 'keys' },
      ...(requests ? { requests } : {}),
      providers: {
        primary: { type: 'openai', baseUrl: `${state.primary.url}/v1` },
        backup: { type: 'openai', baseUrl: `${state.backup.url}/v1` },
      },
      // The default breaker: five consecutive failures open a circuit.
      models: { chat: { deployments }, embed: { type: 'embeddings', deployments } },
    });
    const store = state.gw.gateway.tenancy.store;
    for (const tenant of ['attacker', 'victim']) {
      await store.createTenant({ id: tenant });
      state[tenant as 'attacker' | 'victim'] = (await store.createKey({ tenant })).secret;
    }
  });
  after(async () => {
    await state.gw.close();
    await state.primary.close();
    await state.backup.close();
  });
  return state;
}

async function victimIsServed(state: { gw: TestGateway; victim: string }): Promise<void> {
  const client = new OpenAI({ baseURL: `${state.gw.url}/v1`, apiKey: state.victim, maxRetries: 0 });
  const { data, response } = await client.chat.completions
    .create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-tollgate-deployment'), 'primary', 'the primary still serves');
  assert.match(data.choices[0]?.message.content ?? '', /^Mock reply to: hello/);
}

const ALL_CLOSED = [
  'chat/primary:closed:0:0',
  'chat/backup:closed:0:0',
  'embed/primary:closed:0:0',
  'embed/backup:closed:0:0',
];

describe('deep bodies with the default depth limit: refused at validation', () => {
  const state = setup(undefined);

  it('six deep bodies per carrier field → 400 naming requests.maxDepth and the path; every breaker closed; another tenant served', async () => {
    for (const carrier of CARRIERS) {
      for (let i = 0; i < 6; i++) {
        const res = await post(state.gw, '/v1/chat/completions', state.attacker, chatBody(carrier));
        assert.equal(res.status, 400, `${carrier} #${i}: ${JSON.stringify(res.body).slice(0, 200)}`);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.match(res.body.error.message, /nested more than 64 levels deep .*requests\.maxDepth/);
        assert.match(res.body.error.param, new RegExp(`^${carrier.split('[')[0]}`));
        assert.equal(res.headers['x-should-retry'], 'false');
      }
    }
    const embeddings = await post(
      state.gw,
      '/v1/embeddings',
      state.attacker,
      `{"model":"embed","input":"x","extra":${deepJson}}`,
    );
    assert.equal(embeddings.status, 400);
    assert.match(embeddings.body.error.param, /^extra\.a\.a/);
    const messages = await post(
      state.gw,
      '/v1/messages',
      state.attacker,
      `{"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"x"}],"metadata":{"x":${deepJson}}}`,
    );
    assert.equal(messages.status, 400);
    assert.equal(messages.body.type, 'error');
    assert.match(messages.body.error.message, /^Invalid request: 'metadata\.x\.a.*requests\.maxDepth/);

    assert.deepEqual(await breakers(state.gw), ALL_CLOSED);
    await victimIsServed(state);
  });
});

describe('deep bodies with the depth limit lifted: the serializer fails, and that is the request’s fault', () => {
  const state = setup({ maxDepth: 1_000_000 });

  it('six per carrier field → 400 after one attempt, no retry or fallback; every breaker closed; another tenant served', async () => {
    for (const carrier of CARRIERS) {
      for (let i = 0; i < 6; i++) {
        const res = await post(state.gw, '/v1/chat/completions', state.attacker, chatBody(carrier));
        assert.equal(res.status, 400, `${carrier} #${i}: ${JSON.stringify(res.body).slice(0, 300)}`);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.match(res.body.error.message, /^primary: the request could not be serialized .*Maximum call stack/);
        assert.equal(res.headers['x-tollgate-attempts'], '1', 'one attempt: no retry, no fallback');
      }
    }
    const embeddings = await post(
      state.gw,
      '/v1/embeddings',
      state.attacker,
      `{"model":"embed","input":"x","extra":${deepJson}}`,
    );
    assert.equal(embeddings.status, 400);
    assert.equal(embeddings.headers['x-tollgate-attempts'], '1');
    const messages = await post(
      state.gw,
      '/v1/messages',
      state.attacker,
      `{"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"x"}],` +
        `"tools":[{"name":"f","input_schema":{"type":"object","x":${deepJson}}}]}`,
    );
    assert.equal(messages.status, 400, JSON.stringify(messages.body).slice(0, 300));
    assert.equal(messages.body.error.type, 'invalid_request_error');

    assert.deepEqual(await breakers(state.gw), ALL_CLOSED);
    await victimIsServed(state);
  });
});
