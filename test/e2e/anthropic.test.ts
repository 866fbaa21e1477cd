import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request } from 'undici';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { startMockServer, type MockServer } from '../../src/providers/mock/mock-server.js';
import { parseSseFrames } from '../helpers/anthropic-fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Both directions of the Anthropic translation over real sockets, each through the official SDK:
 * (a) `openai` → Tollgate → an `anthropic` deployment → the mock's `/v1/messages`;
 * (b) `@anthropic-ai/sdk` → Tollgate's `/v1/messages` → an OpenAI-wire deployment → the mock's
 *     `/v1/chat/completions`.
 * The mock's engine answers the same messages with the same text and token counts on both of its
 * routes, so each path is checked against the plain OpenAI path.
 */
describe('Anthropic, both ways, through the official SDKs', () => {
  let mock: MockServer;
  let gw: TestGateway;
  let openai: OpenAI;
  let claude: Anthropic;
  const calls: { summary: CallSummary; headers: Readonly<Record<string, unknown>> }[] = [];

  before(async () => {
    mock = await startMockServer({ port: 0 });
    gw = await startTestGateway(
      {
        providers: {
          up: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream', forwardHeaders: ['x-mock-*'] },
          anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream', forwardHeaders: ['x-mock-*'] },
        },
        models: {
          'gpt-4o-mini': { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] },
          'claude-sonnet': { deployments: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
          'claude-embeddings': { type: 'embeddings', deployments: [{ provider: 'anthropic', model: 'claude-x' }] },
        },
      },
      { observers: [(summary, ctx) => calls.push({ summary, headers: ctx.headers })] },
    );
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
    claude = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
  });

  after(async () => {
    await gw.close();
    await mock.close();
  });

  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Name three rivers in Europe.' },
  ];
  const weather = {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: {
      type: 'object' as const,
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
    },
  };
  const settled = async (requestId: string): Promise<CallSummary> => {
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline) {
      const call = calls.find((c) => c.summary.requestId === requestId);
      if (call) return call.summary;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`call ${requestId} never settled`);
  };

  describe('(a) openai SDK → an anthropic deployment', () => {
    it('non-stream: the same text and usage as the OpenAI path, served by the anthropic deployment', async () => {
      const direct = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
      const { data, response } = await openai.chat.completions
        .create({ model: 'claude-sonnet', messages })
        .withResponse();
      assert.equal(response.headers.get('x-tollgate-deployment'), 'claude-sonnet#0');
      assert.match(data.id, /^msg_/);
      assert.equal(data.model, 'claude-sonnet-4-5');
      assert.equal(data.choices[0]?.finish_reason, 'stop');
      assert.equal(data.choices[0]?.message.content, direct.choices[0]?.message.content);
      assert.equal(data.usage?.prompt_tokens, direct.usage?.prompt_tokens);
      assert.equal(data.usage?.completion_tokens, direct.usage?.completion_tokens);
      assert.equal(data.usage?.total_tokens, (data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0));
    });

    it('stream with include_usage: the same text, one usage chunk with choices [], usage null before it', async () => {
      const whole = await openai.chat.completions.create({ model: 'claude-sonnet', messages });
      const stream = await openai.chat.completions.create({
        model: 'claude-sonnet',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const last = chunks.at(-1)!;
      assert.deepEqual(last.choices, []);
      assert.equal(last.usage?.prompt_tokens, whole.usage?.prompt_tokens);
      assert.equal(last.usage?.completion_tokens, whole.usage?.completion_tokens);
      for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      assert.equal(text, whole.choices[0]?.message.content);
      assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    });

    it('stream without include_usage: no usage key anywhere', async () => {
      const stream = await openai.chat.completions.create({ model: 'claude-sonnet', messages, stream: true });
      for await (const chunk of stream) assert.equal('usage' in chunk, false);
    });

    it('tools: a tool call, streamed and not, then the tool result gets an answer', async () => {
      const tools = [{ type: 'function' as const, function: weather }];
      const ask = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
      const first = await openai.chat.completions.create({
        model: 'claude-sonnet',
        messages: ask,
        tools,
        tool_choice: 'required',
      });
      const choice = first.choices[0]!;
      assert.equal(choice.finish_reason, 'tool_calls');
      const call = choice.message.tool_calls?.[0];
      assert.ok(call?.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      const args = JSON.parse(call.function.arguments) as { city: string; unit: string };
      assert.equal(typeof args.city, 'string');
      assert.ok(['c', 'f'].includes(args.unit));

      const stream = await openai.chat.completions.create({
        model: 'claude-sonnet',
        messages: ask,
        tools,
        tool_choice: 'required',
        stream: true,
      });
      let streamedArgs = '';
      let streamedId = '';
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
          streamedId ||= delta.id ?? '';
          streamedArgs += delta.function?.arguments ?? '';
        }
      }
      assert.equal(streamedId, call.id);
      assert.deepEqual(JSON.parse(streamedArgs), args);

      const answer = await openai.chat.completions.create({
        model: 'claude-sonnet',
        tools,
        messages: [...ask, choice.message, { role: 'tool', tool_call_id: call.id, content: '18°C, sunny' }],
      });
      assert.equal(answer.choices[0]?.finish_reason, 'stop');
      assert.ok((answer.choices[0]?.message.content ?? '').length > 0);
    });

    it('upstream 529 overloaded → 502 upstream_error (retryable), the 529 kept', async () => {
      const overloaded = openai.withOptions({ defaultHeaders: { 'x-mock-error-status': '529' } });
      await assert.rejects(overloaded.chat.completions.create({ model: 'claude-sonnet', messages }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError);
        assert.equal(err.status, 502);
        assert.equal(err.code, 'upstream_error');
        assert.equal(err.headers.get('x-tollgate-upstream-status'), '529');
        assert.equal(err.headers.get('x-should-retry'), null, 'retryable: no x-should-retry: false');
        return true;
      });
    });

    it('an in-band error event mid-stream → the openai SDK raises after the chunks before it', async () => {
      const failing = openai.withOptions({ defaultHeaders: { 'x-mock-error-event-after': '3' } });
      const stream = await failing.chat.completions.create({ model: 'claude-sonnet', messages, stream: true });
      let text = '';
      await assert.rejects(
        async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        },
        (err: unknown) => err instanceof OpenAI.APIError && /stream/.test(err.message),
      );
      assert.ok(text.length > 0);
    });

    it('embeddings on an anthropic deployment → 400 naming the provider', async () => {
      await assert.rejects(
        openai.embeddings.create({ model: 'claude-embeddings', input: 'hello' }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && /anthropic/.test(err.message),
      );
    });
  });

  describe('(b) @anthropic-ai/sdk → /v1/messages → an OpenAI-wire deployment', () => {
    const params = {
      model: 'gpt-4o-mini',
      max_tokens: 256,
      system: 'You are terse.',
      messages: [{ role: 'user' as const, content: 'Name three rivers in Europe.' }],
    };

    it('non-stream: a Message with the OpenAI path text, usage and request-id', async () => {
      const direct = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
      const { data, response } = await claude.messages.create(params).withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.role, 'assistant');
      assert.equal(data.stop_reason, 'end_turn');
      const block = data.content[0];
      assert.ok(block?.type === 'text');
      assert.equal(block.text, direct.choices[0]?.message.content);
      assert.equal(data.usage.input_tokens, direct.usage?.prompt_tokens);
      assert.equal(data.usage.output_tokens, direct.usage?.completion_tokens);
      assert.equal(response.headers.get('request-id'), response.headers.get('x-request-id'));
      assert.equal(response.headers.get('x-tollgate-deployment'), 'gpt-4o-mini#0');
    });

    it('stream: messages.stream() assembles the same message, with the right usage', async () => {
      const whole = await claude.messages.create(params);
      const stream = claude.messages.stream(params);
      let text = '';
      stream.on('text', (delta) => (text += delta));
      const final = await stream.finalMessage();
      assert.deepEqual(final.content, whole.content);
      assert.equal(text, (whole.content[0] as { text: string }).text);
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
      assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    });

    it('max_tokens below the reply: stop_reason max_tokens', async () => {
      const message = await claude.messages.create({ ...params, max_tokens: 5 });
      assert.equal(message.stop_reason, 'max_tokens');
      assert.equal(message.usage.output_tokens, 5);
    });

    it('tools: tool_use, streamed and not, then a tool_result gets an answer', async () => {
      const tools = [{ name: weather.name, description: weather.description, input_schema: weather.parameters }];
      const ask = { ...params, tools, tool_choice: { type: 'tool' as const, name: 'get_weather' } };
      const first = await claude.messages.create(ask);
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.ok(use?.type === 'tool_use');
      assert.equal(use.name, 'get_weather');
      assert.equal(typeof (use.input as { city: unknown }).city, 'string');

      const streamed = await claude.messages.stream(ask).finalMessage();
      const streamedUse = streamed.content.find((b) => b.type === 'tool_use');
      assert.ok(streamedUse?.type === 'tool_use');
      assert.equal(streamedUse.id, use.id);
      assert.deepEqual(streamedUse.input, use.input);
      assert.equal(streamed.stop_reason, 'tool_use');

      const answer = await claude.messages.create({
        ...params,
        tools,
        messages: [
          ...params.messages,
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18°C, sunny' }] },
        ],
      });
      assert.equal(answer.stop_reason, 'end_turn');
      assert.equal(answer.content[0]?.type, 'text');
    });

    it('an unknown model → NotFoundError (not_found_error)', async () => {
      await assert.rejects(claude.messages.create({ ...params, model: 'claude-9' }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.NotFoundError);
        assert.equal(err.status, 404);
        assert.equal(err.type, 'not_found_error');
        assert.match(err.message, /claude-9/);
        assert.ok(err.requestID);
        return true;
      });
    });

    it('a schema violation → BadRequestError naming the field', async () => {
      // temperature is gone from this SDK's types, not from the API: older clients send it.
      const hot = { ...params, temperature: 5 } as typeof params;
      await assert.rejects(claude.messages.create(hot), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError);
        assert.equal(err.type, 'invalid_request_error');
        assert.match(err.message, /'temperature'/);
        return true;
      });
      const { max_tokens: _unset, ...missing } = params;
      await assert.rejects(
        claude.messages.create(missing as typeof params),
        (err: unknown) => err instanceof Anthropic.BadRequestError && /'max_tokens' is required/.test(err.message),
      );
    });

    it('malformed JSON → 400 in Anthropic shape (raw HTTP: an SDK cannot send it)', async () => {
      const res = await request(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model": "gpt-4o-mini", "messages": [',
      });
      assert.equal(res.statusCode, 400);
      const body = (await res.body.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /JSON/);
    });

    it('upstream 429 → RateLimitError with retry-after passed on', async () => {
      const limited = claude.withOptions({
        defaultHeaders: { 'x-mock-error-status': '429', 'x-mock-retry-after-s': '7' },
      });
      await assert.rejects(limited.messages.create(params), (err: unknown) => {
        assert.ok(err instanceof Anthropic.RateLimitError);
        assert.equal(err.type, 'rate_limit_error');
        assert.equal(err.headers?.get('retry-after'), '7');
        return true;
      });
    });

    it('a stream that fails before its first byte → an HTTP error in Anthropic shape', async () => {
      const failing = claude.withOptions({ defaultHeaders: { 'x-mock-error-status': '500' } });
      await assert.rejects(failing.messages.stream(params).finalMessage(), (err: unknown) => {
        assert.ok(err instanceof Anthropic.InternalServerError);
        assert.equal(err.status, 502);
        assert.equal(err.type, 'api_error');
        return true;
      });
    });

    it('accepts the key as x-api-key or as Authorization: Bearer; both reach the pipeline as authorization', async () => {
      const byKey = await request(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'key-a', 'x-request-id': 'auth-key' },
        body: JSON.stringify(params),
      });
      assert.equal(byKey.statusCode, 200);
      await byKey.body.dump();
      const byBearer = await request(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer key-b', 'x-request-id': 'auth-bearer' },
        body: JSON.stringify(params),
      });
      assert.equal(byBearer.statusCode, 200);
      await byBearer.body.dump();
      await settled('auth-key');
      await settled('auth-bearer');
      const seen = (id: string) => calls.find((c) => c.summary.requestId === id)?.headers.authorization;
      assert.equal(seen('auth-key'), 'Bearer key-a');
      assert.equal(seen('auth-bearer'), 'Bearer key-b');
    });
  });

  describe('(c) a mid-stream upstream failure through /v1/messages', () => {
    const params = {
      model: 'gpt-4o-mini',
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'Name three rivers in Europe.' }],
    };

    it('ends with an Anthropic error event, never message_stop, and the SDK raises', async () => {
      const cut = claude.withOptions({ defaultHeaders: { 'x-mock-cut-after': '5', 'x-request-id': 'cut-5' } });
      const stream = cut.messages.stream(params);
      let text = '';
      stream.on('text', (delta) => (text += delta));
      await assert.rejects(stream.finalMessage(), (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError);
        assert.equal(err.type, 'api_error');
        assert.match(err.message, /stream failed after it started/);
        return true;
      });
      assert.ok(text.length > 0, 'the five chunks before the cut arrived');
      const call = await settled('cut-5');
      assert.equal(call.outcome, 'truncated');
      assert.ok(call.outputTokens > 0, 'the streamed tokens are counted');
    });

    it('the raw transcript: named events, the chunks, then event: error and the end', async () => {
      const res = await request(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-error-event-after': '2' },
        body: JSON.stringify({ ...params, stream: true }),
      });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      const frames = parseSseFrames(await res.body.text());
      const names = frames.map((f) => f.event);
      assert.deepEqual(names.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
      assert.equal(names.filter((n) => n === 'content_block_delta').length, 2);
      assert.equal(names.at(-1), 'error');
      assert.ok(!names.includes('message_stop') && !names.includes('message_delta'));
      const error = JSON.parse(frames.at(-1)!.data) as { type: string; error: { type: string; message: string } };
      assert.equal(error.type, 'error');
      assert.equal(error.error.type, 'api_error');
    });
  });
});
