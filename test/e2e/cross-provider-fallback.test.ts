import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { weather } from '../helpers/anthropic-rig.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * OpenAI → Anthropic fallback through the official `openai` SDK: the primary deployment speaks
 * the OpenAI wire and fails (forced 500s), the fallback speaks the Anthropic Messages API. The
 * client sees one OpenAI-shaped answer, stream and tools included, and the headers and ledger
 * say which deployment served it after how many attempts.
 */
describe('fallback across providers (OpenAI wire → Anthropic wire)', () => {
  let mock: MockServer;
  let gw: TestGateway;
  let client: OpenAI;
  const calls: CallSummary[] = [];

  before(async () => {
    mock = await startMockServer({ port: 0 });
    gw = await startTestGateway(
      {
        providers: {
          // Every call to this provider gets an injected 500 from the mock.
          openai: { type: 'openai', baseUrl: `${mock.url}/v1`, headers: { 'x-mock-error-status': '500' } },
          anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-test' },
        },
        models: {
          assistant: {
            strategy: 'priority',
            retry: { maxAttempts: 1 },
            deployments: [
              { id: 'primary-openai', provider: 'openai', model: 'gpt-4o-mini' },
              { id: 'fallback-claude', provider: 'anthropic', model: 'claude-sonnet-4-5' },
            ],
          },
        },
      },
      { observers: [(s) => calls.push(s)] },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  const settled = async (id: string): Promise<CallSummary> => {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const call = calls.find((c) => c.requestId === id);
      if (call) return call;
      if (Date.now() > deadline) throw new Error(`${id} never settled`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('non-stream: answered by the Anthropic deployment after the OpenAI one failed', async () => {
    const { data, response } = await client.chat.completions
      .create(
        { model: 'assistant', messages: [{ role: 'user', content: 'Name a river.' }] },
        { headers: { 'x-request-id': 'fb-plain' } },
      )
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.ok((data.choices[0]?.message.content ?? '').length > 0);
    assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
    assert.equal(response.headers.get('x-tollgate-deployment'), 'fallback-claude');
    assert.equal(response.headers.get('x-tollgate-attempts'), '2');
    const call = await settled('fb-plain');
    assert.equal(call.provider, 'anthropic');
    assert.equal(call.fallbackUsed, true);
    assert.equal(call.attempts, 2);
    assert.equal(call.inputTokens, data.usage.prompt_tokens);
  });

  it('stream with include_usage: OpenAI chunks translated from Anthropic events, usage exactly once', async () => {
    const stream = await client.chat.completions.create(
      {
        model: 'assistant',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Describe a river.' }],
      },
      { headers: { 'x-request-id': 'fb-stream' } },
    );
    let text = '';
    const usages: OpenAI.CompletionUsage[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usages.push(chunk.usage);
    }
    assert.ok(text.length > 10);
    assert.equal(usages.length, 1);
    const call = await settled('fb-stream');
    assert.equal(call.deployment, 'fallback-claude');
    assert.equal(call.outcome, 'ok');
    assert.equal(call.outputTokens, usages[0]!.completion_tokens);
  });

  it('tools: a tool call comes back in OpenAI shape from the Anthropic fallback, streamed and not', async () => {
    const request = {
      model: 'assistant',
      messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }],
      tools: [{ type: 'function' as const, function: weather }],
      tool_choice: 'required' as const,
    };
    const whole = await client.chat.completions.create(request);
    const call = whole.choices[0]?.message.tool_calls?.[0];
    assert.equal(whole.choices[0]?.finish_reason, 'tool_calls');
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments), 'object');

    const stream = await client.chat.completions.create({ ...request, stream: true });
    let name = '';
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0];
      name += delta?.function?.name ?? '';
      args += delta?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(name, 'get_weather');
    assert.deepEqual(JSON.parse(args), JSON.parse(call.function.arguments));
    assert.equal(finish, 'tool_calls');
  });
});
