import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startAnthropicRig, weather, type AnthropicRig } from '../helpers/anthropic-rig.js';

/**
 * The official `openai` package → Tollgate → an `anthropic` deployment → the mock's
 * `/v1/messages`, over real sockets. The mock's engine answers the same messages with the same
 * text and token counts on both of its routes, so the Anthropic path is checked against the
 * plain OpenAI one.
 */
describe('openai SDK → an anthropic deployment', () => {
  let rig: AnthropicRig;
  let openai: OpenAI;
  before(async () => {
    rig = await startAnthropicRig();
    openai = new OpenAI({ baseURL: `${rig.gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await rig.close();
  });

  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Name three rivers in Europe.' },
  ];

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

  it('an error event right after message_start → a plain HTTP error (nothing but the role chunk came)', async () => {
    const failing = openai.withOptions({
      defaultHeaders: { 'x-mock-error-event-after': '0', 'x-mock-error-status': '529' },
    });
    await assert.rejects(
      failing.chat.completions.create({ model: 'claude-sonnet', messages, stream: true }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError);
        assert.equal(err.status, 502);
        assert.equal(err.code, 'upstream_error');
        assert.match(err.message, /overloaded_error/);
        return true;
      },
    );
  });

  it('embeddings on an anthropic deployment → 400 naming the provider', async () => {
    await assert.rejects(
      openai.embeddings.create({ model: 'claude-embeddings', input: 'hello' }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /anthropic/.test(err.message),
    );
  });
});
