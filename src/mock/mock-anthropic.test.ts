import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { parseSseFrames } from '../../test/helpers/anthropic-fixtures.js';
import { startMockServer, type MockServer } from './mock-server.js';

/** The standalone mock's `/v1/messages`, driven by the official Anthropic SDK. */
describe('mock server: Anthropic Messages wire format', () => {
  let server: MockServer;
  let client: Anthropic;
  const params = {
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user' as const, content: 'Tell me about rate limits' }],
  };

  before(async () => {
    server = await startMockServer({ port: 0, seed: 42 });
    client = new Anthropic({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await server.close();
  });

  const openaiText = async (): Promise<string> => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: params.model, messages: params.messages }),
    });
    const json = (await res.json()) as { choices: { message: { content: string } }[] };
    return json.choices[0]!.message.content;
  };

  it('answers a Message with the same text the OpenAI route gives, and Anthropic usage', async () => {
    const message = await client.messages.create(params);
    assert.equal(message.type, 'message');
    assert.match(message.id, /^msg_/);
    assert.equal(message.model, 'claude-sonnet-4-5');
    assert.equal(message.stop_reason, 'end_turn');
    const block = message.content[0];
    assert.ok(block?.type === 'text');
    assert.equal(block.text, await openaiText());
    assert.ok(message.usage.input_tokens > 5 && message.usage.output_tokens === 24);
  });

  it('streams named events that the SDK assembles into the same message', async () => {
    const stream = client.messages.stream(params);
    const final = await stream.finalMessage();
    const whole = await client.messages.create(params);
    assert.deepEqual(final.content, whole.content);
    assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    assert.equal(final.stop_reason, 'end_turn');
  });

  it('sends message_start first, a ping, and message_stop last, every frame named', async () => {
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...params, stream: true }),
    });
    const frames = parseSseFrames(await res.text());
    const names = frames.map((f) => f.event);
    assert.equal(names[0], 'message_start');
    assert.equal(names[1], 'content_block_start');
    assert.equal(names[2], 'ping');
    assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    for (const frame of frames) assert.equal((JSON.parse(frame.data) as { type: string }).type, frame.event);
  });

  it('calls a tool it is told to, with input that fits the schema', async () => {
    const message = await client.messages.create({
      ...params,
      tools: [
        {
          name: 'get_weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    assert.equal(message.stop_reason, 'tool_use');
    const use = message.content.find((b) => b.type === 'tool_use');
    assert.ok(use?.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    assert.equal(typeof (use.input as { city: unknown }).city, 'string');
  });

  it('injects 529 overloaded as Anthropic does, and 429 with retry-after', async () => {
    const overloaded = client.withOptions({ defaultHeaders: { 'x-mock-error-status': '529' } });
    await assert.rejects(overloaded.messages.create(params), (err: unknown) => {
      assert.ok(err instanceof Anthropic.OverloadedError);
      assert.equal(err.status, 529);
      assert.equal(err.type, 'overloaded_error');
      assert.match(err.message, /Overloaded\. \(injected by the tollgate mock\)/);
      return true;
    });
    const limited = client.withOptions({
      defaultHeaders: { 'x-mock-error-status': '429', 'x-mock-retry-after-s': '3' },
    });
    await assert.rejects(limited.messages.create(params), (err: unknown) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal(err.type, 'rate_limit_error');
      assert.equal(err.headers?.get('retry-after'), '3');
      return true;
    });
  });

  it('an in-band error event after N chunks makes the SDK raise, with the injected type', async () => {
    const failing = client.withOptions({
      defaultHeaders: { 'x-mock-error-event-after': '3', 'x-mock-error-status': '529' },
    });
    const stream = failing.messages.stream(params);
    let text = '';
    stream.on('text', (delta) => (text += delta));
    await assert.rejects(stream.finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.type, 'overloaded_error');
      return true;
    });
    assert.ok(text.length > 0, 'the chunks before the error arrived');
  });

  it('a stream cut after N chunks makes the SDK raise', async () => {
    const cut = client.withOptions({ defaultHeaders: { 'x-mock-cut-after': '2' } });
    await assert.rejects(cut.messages.stream(params).finalMessage());
  });

  it('refuses a bad request in Anthropic shape, naming the field', async () => {
    const { max_tokens: _dropped, ...missing } = params;
    await assert.rejects(client.messages.create(missing as typeof params), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.message, /max_tokens/);
      return true;
    });
    const bad = client.withOptions({ defaultHeaders: { 'x-mock-latency-ms': 'soon' } });
    await assert.rejects(
      bad.messages.create(params),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /x-mock-latency-ms/.test(err.message),
    );
  });
});
