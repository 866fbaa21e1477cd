import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request } from 'undici';
import { parseSseFrames } from '../helpers/anthropic-fixtures.js';
import { startAnthropicRig, weather, type AnthropicRig } from '../helpers/anthropic-rig.js';

/**
 * The official `@anthropic-ai/sdk` → Tollgate's `POST /v1/messages` → an OpenAI-wire deployment
 * → the mock's `/v1/chat/completions`, over real sockets; answers are checked against the plain
 * OpenAI path to the same deployment.
 */
describe('@anthropic-ai/sdk → /v1/messages', () => {
  let rig: AnthropicRig;
  let openai: OpenAI;
  let claude: Anthropic;
  before(async () => {
    rig = await startAnthropicRig();
    openai = new OpenAI({ baseURL: `${rig.gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
    claude = new Anthropic({ baseURL: rig.gw.url, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await rig.close();
  });

  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Name three rivers in Europe.' },
  ];

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
      const res = await request(`${rig.gw.url}/v1/messages`, {
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
      await assert.rejects(limited.messages.create({ ...params, model: 'limited' }), (err: unknown) => {
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
      // Failing after the upstream's content-less role chunk is still before the first byte.
      const early = claude.withOptions({ defaultHeaders: { 'x-mock-error-event-after': '0' } });
      await assert.rejects(
        early.messages.stream(params).finalMessage(),
        (err: unknown) => err instanceof Anthropic.InternalServerError && err.status === 502,
      );
    });

    it('accepts the key as x-api-key or as Authorization: Bearer; both reach the pipeline as authorization', async () => {
      const byKey = await request(`${rig.gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'key-a', 'x-request-id': 'auth-key' },
        body: JSON.stringify(params),
      });
      assert.equal(byKey.statusCode, 200);
      await byKey.body.dump();
      const byBearer = await request(`${rig.gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer key-b', 'x-request-id': 'auth-bearer' },
        body: JSON.stringify(params),
      });
      assert.equal(byBearer.statusCode, 200);
      await byBearer.body.dump();
      await rig.settled('auth-key');
      await rig.settled('auth-bearer');
      const seen = (id: string) => rig.calls.find((c) => c.summary.requestId === id)?.headers.authorization;
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
      const call = await rig.settled('cut-5');
      assert.equal(call.outcome, 'truncated');
      assert.ok(call.outputTokens > 0, 'the streamed tokens are counted');
    });

    it('the raw transcript: named events, the chunks, then event: error and the end', async () => {
      const res = await request(`${rig.gw.url}/v1/messages`, {
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
