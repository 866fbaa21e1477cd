import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateChatReply, toChatResponse } from './mock-engine.js';
import { startMockServer, type MockServer } from './mock-server.js';

let server: MockServer;
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me about rate limits' }] };

before(async () => {
  server = await startMockServer({ port: 0, seed: 42 });
});
after(async () => {
  await server.close();
});

const post = (path: string, payload: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    ...(signal ? { signal } : {}),
  });
const chat = (headers: Record<string, string> = {}, extra: object = {}, signal?: AbortSignal) =>
  post('/v1/chat/completions', { ...body, ...extra }, headers, signal);
const stream = (headers: Record<string, string> = {}, extra: object = {}) => chat(headers, { stream: true, ...extra });

/** Reads SSE events (without the trailing blank line) until the body ends, fails, or `limit` events arrived. */
async function readEvents(res: Response, limit = Infinity): Promise<{ events: string[]; error: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: string[] = [];
  let buffer = '';
  try {
    while (events.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        events.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    if (events.length >= limit) await reader.cancel();
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}
const dataOf = (event: string): string => event.replace(/^data: /, '');

describe('mock server: OpenAI wire format', () => {
  it('answers chat completions with the engine reply', async () => {
    const res = await chat();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.match(res.headers.get('x-mock-seed') ?? '', /^\d+$/);
    const json = (await res.json()) as { created: number };
    const expected = toChatResponse(
      await generateChatReply(body as never, { seed: 42, completionTokens: 24, created: json.created }),
    );
    assert.deepEqual(json, expected);
  });

  it('streams SSE events ending in [DONE], whose content joins to the JSON answer', async () => {
    const res = await stream();
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const { events } = await readEvents(res);
    assert.equal(events.at(-1), 'data: [DONE]');
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(dataOf(e)) as Record<string, unknown> & { choices: { delta: { content?: string } }[] });
    assert.ok(chunks.every((c) => !('usage' in c)));
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const json = (await (await chat()).json()) as { choices: { message: { content: string } }[] };
    assert.equal(text, json.choices[0]?.message.content);
  });

  it('adds the usage chunk, and usage null elsewhere, only with include_usage', async () => {
    const { events } = await readEvents(await stream({}, { stream_options: { include_usage: true } }));
    const chunks = events.slice(0, -1).map((e) => JSON.parse(dataOf(e)) as { choices: unknown[]; usage: unknown });
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.equal((chunks.at(-1)?.usage as { completion_tokens: number }).completion_tokens, 24);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
  });

  it('serves embeddings and the model list', async () => {
    const res = await post('/v1/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 8 });
    const json = (await res.json()) as { data: { embedding: number[] }[] };
    assert.equal(json.data.length, 2);
    assert.equal(json.data[0]?.embedding.length, 8);
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { object: string; data: unknown[] };
    assert.equal(models.object, 'list');
    assert.ok(models.data.length > 0);
  });

  it('answers bad input with OpenAI error JSON: 400 with param, 404, 405', async () => {
    const missing = await post('/v1/chat/completions', { model: 'm' });
    assert.equal(missing.status, 400);
    assert.deepEqual(((await missing.json()) as { error: { param: string } }).error.param, 'messages');
    const broken = await post('/v1/chat/completions', '{"model": ');
    assert.equal(broken.status, 400);
    const header = await chat({ 'x-mock-error-rate': 'lots' });
    assert.equal(((await header.json()) as { error: { param: string } }).error.param, 'x-mock-error-rate');
    const unknown = await post('/v1/completions', body);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
    assert.equal((await fetch(`${server.url}/v1/chat/completions`)).status, 405);
  });

  it('works with the official openai client, plain and streaming', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.usage?.completion_tokens, 24);
    const chunks = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, completion.choices[0]?.message.content);
  });
});

describe('mock server: injected faults over a socket', () => {
  it('errors with the status, OpenAI error JSON and retry-after', async () => {
    const res = await chat({ 'x-mock-error-status': '429', 'x-mock-retry-after-s': '2' });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.equal(res.headers.get('retry-after-ms'), '2000');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'rate_limit_exceeded');
    assert.equal((await stream({ 'x-mock-error-status': '529' })).status, 529);
  });

  it('waits x-mock-latency-ms before answering', async () => {
    const started = performance.now();
    await (await chat({ 'x-mock-latency-ms': '150' })).json();
    assert.ok(performance.now() - started >= 145);
  });

  it('reset destroys the socket without a response', async () => {
    await assert.rejects(chat({ 'x-mock-reset': '1' }), TypeError);
  });

  it('hang never answers, until the client goes away', async () => {
    await assert.rejects(
      chat({ 'x-mock-hang': '1' }, {}, AbortSignal.timeout(200)),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.equal((await chat()).status, 200);
  });

  it('cut-after N sends N content chunks, then the connection dies', async () => {
    const { events, error } = await readEvents(await stream({ 'x-mock-cut-after': '2' }));
    assert.ok(error instanceof Error);
    assert.deepEqual(
      events.map(
        (e) => (JSON.parse(dataOf(e)) as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content,
      ),
      ['', 'Mock', ' reply'],
    );
  });

  it('stall-after N sends N content chunks, then nothing', async () => {
    const stalled = await stream({ 'x-mock-stall-after': '1' });
    const reader = (stalled.body as ReadableStream<Uint8Array>).getReader();
    const timer = setTimeout(() => void reader.cancel(), 250);
    let received = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += new TextDecoder().decode(value);
    }
    clearTimeout(timer);
    assert.equal(received.split('\n\n').filter(Boolean).length, 2);
  });

  it('error-event-after N sends an in-band error event and no [DONE]', async () => {
    const { events } = await readEvents(await stream({ 'x-mock-error-event-after': '1' }));
    assert.equal(events.length, 3);
    const last = JSON.parse(dataOf(events.at(-1) ?? '')) as { error: { type: string } };
    assert.equal(last.error.type, 'server_error');
  });

  it('malformed sends broken JSON (200) or a broken data line', async () => {
    const res = await chat({ 'x-mock-malformed': 'json' });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.throws(() => JSON.parse(text));
    const { events } = await readEvents(await stream({ 'x-mock-malformed': 'sse' }));
    assert.throws(() => JSON.parse(dataOf(events[1] ?? '')));
    assert.equal(events.at(-1), 'data: [DONE]');
  });

  it('closes promptly with hung and stalled requests open', async () => {
    const own = await startMockServer({ port: 0 });
    const hung = fetch(`${own.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-mock-hang': '1' },
      body: JSON.stringify(body),
    }).catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await own.close();
    assert.ok((await hung) instanceof Error);
  });
});
