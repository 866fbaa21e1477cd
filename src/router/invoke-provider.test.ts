import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import { providerSchema } from '../providers/schema.js';
import { FakeClock } from '../core/clock.js';
import type { GatewayCall } from '../core/pipeline.js';
import type { ChatRequest, Deployment } from '../core/types.js';
import { createProvider } from '../providers/create-provider.js';
import { mockTestContext } from '../../test/kits/mock-test-kit.js';
import type { Provider } from '../providers/types.js';
import { invokeProvider } from './invoke-provider.js';

// Issue 7, item 5: a budget's output cap reaches each provider family in the field it reads.

/** An upstream on a real socket that records each JSON body and answers in the dialect of its path. */
function startCapture(): Promise<{ server: Server; url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      const usage = { input: 3, output: 1 };
      res.end(
        JSON.stringify(
          req.url === '/v1/messages'
            ? {
                id: 'msg_1',
                type: 'message',
                role: 'assistant',
                model: body.model,
                content: [{ type: 'text', text: 'hi' }],
                stop_reason: 'max_tokens',
                stop_sequence: null,
                usage: { input_tokens: usage.input, output_tokens: usage.output },
              }
            : {
                id: 'chatcmpl-1',
                object: 'chat.completion',
                created: 0,
                model: body.model,
                choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'length' }],
                usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: 4 },
              },
        ),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies }),
    ),
  );
}

const deployment = (provider: string, model: string, params: Record<string, unknown> = {}): Deployment => ({
  id: `${provider}/${model}`,
  alias: 'a',
  provider,
  model,
  params,
  override: {},
});
const chat = (request: Partial<ChatRequest>, caps: [Deployment, number][]): GatewayCall => ({
  kind: 'chat',
  stream: false,
  request: { model: 'a', messages: [{ role: 'user', content: 'hello' }], ...request },
  outputCaps: new Map(caps.map(([d, cap]) => [d.id, cap])),
});

void describe('invokeProvider: the output cap in each provider family', () => {
  let capture: Awaited<ReturnType<typeof startCapture>>;
  let providers: Map<string, Provider>;
  before(async () => {
    capture = await startCapture();
    const configs: Record<string, z.input<typeof providerSchema>> = {
      classic: { type: 'openai', baseUrl: `${capture.url}/v1` },
      openaiField: { type: 'openai', baseUrl: `${capture.url}/v1`, outputLimitField: 'max_completion_tokens' },
      claude: { type: 'anthropic', baseUrl: capture.url, defaultMaxTokens: 4096 },
      mock: { type: 'mock', scenario: { completionTokens: 3000 } },
    };
    providers = new Map(
      Object.entries(configs).map(([id, c]) => [id, createProvider(id, providerSchema.parse(c), new FakeClock())]),
    );
  });
  after(async () => {
    for (const p of providers.values()) await p.close?.();
    capture.server.close();
  });

  /** The body the upstream received for one call. */
  async function sent(call: GatewayCall, to: Deployment): Promise<Record<string, unknown>> {
    const before = capture.bodies.length;
    await invokeProvider(providers.get(to.provider)!, to)(call, mockTestContext().ctx);
    assert.equal(capture.bodies.length, before + 1);
    return capture.bodies.at(-1)!;
  }
  const limits = (body: Record<string, unknown>) => ({
    max_tokens: body.max_tokens,
    max_completion_tokens: body.max_completion_tokens,
  });

  void it('OpenAI-compatible server, classic model: max_tokens', async () => {
    const d = deployment('classic', 'llama-3.1-8b');
    assert.deepEqual(limits(await sent(chat({}, [[d, 1000]]), d)), {
      max_tokens: 1000,
      max_completion_tokens: undefined,
    });
  });

  void it('OpenAI reasoning / new models (any server), and api.openai.com: max_completion_tokens', async () => {
    for (const model of ['o3-mini', 'o1', 'gpt-5-mini']) {
      const d = deployment('classic', model);
      assert.deepEqual(limits(await sent(chat({}, [[d, 700]]), d)), {
        max_tokens: undefined,
        max_completion_tokens: 700,
      });
    }
    const d = deployment('openaiField', 'gpt-4o-mini');
    assert.deepEqual(limits(await sent(chat({}, [[d, 900]]), d)), {
      max_tokens: undefined,
      max_completion_tokens: 900,
    });
  });

  void it('Anthropic: max_tokens (instead of the provider default)', async () => {
    const d = deployment('claude', 'claude-sonnet-4-5');
    assert.equal((await sent(chat({}, [[d, 1000]]), d)).max_tokens, 1000);
    assert.equal((await sent(chat({}, []), d)).max_tokens, 4096, 'no cap: the provider default');
  });

  void it("the client's own limit (or the deployment's params) wins over the cap, in the field the upstream reads", async () => {
    const classic = deployment('classic', 'llama-3.1-8b');
    assert.deepEqual(limits(await sent(chat({ max_completion_tokens: 50 }, [[classic, 1000]]), classic)), {
      max_tokens: 50,
      max_completion_tokens: undefined,
    });
    const o3 = deployment('classic', 'o3-mini');
    assert.deepEqual(limits(await sent(chat({ max_tokens: 60 }, [[o3, 1000]]), o3)), {
      max_tokens: undefined,
      max_completion_tokens: 60,
    });
    const withParams = deployment('classic', 'llama-3.1-8b', { max_tokens: 70 });
    assert.equal((await sent(chat({}, [[withParams, 1000]]), withParams)).max_tokens, 70);
    assert.equal((await sent(chat({}, []), classic)).max_tokens, undefined, 'no cap, no limit: nothing sent');
  });

  void it('the mock honours the cap as an upstream does: truncated, finish_reason length, usage = the cap', async () => {
    const d = deployment('mock', 'gpt-4o-mini');
    const result = await invokeProvider(providers.get(d.provider)!, d)(chat({}, [[d, 123]]), mockTestContext().ctx);
    assert.equal(result.kind, 'chat');
    if (result.kind !== 'chat') return;
    assert.equal(result.response.choices[0]?.finish_reason, 'length');
    assert.equal(result.response.usage?.completion_tokens, 123);
  });
});
