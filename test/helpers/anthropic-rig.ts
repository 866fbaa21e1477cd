import type { CallSummary } from '../../src/observability/call-summary.js';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { startTestGateway, type TestGateway } from './gateway.js';

export interface AnthropicRig {
  mock: MockServer;
  gw: TestGateway;
  /** Every settled call, with the request headers the pipeline saw. */
  calls: { summary: CallSummary; headers: Readonly<Record<string, unknown>> }[];
  /** Waits for a call to settle (the ledger observer runs after the last byte). */
  settled(requestId: string): Promise<CallSummary>;
  close(): Promise<void>;
}

/**
 * The mock on one socket, a gateway on another with an OpenAI-wire alias (`gpt-4o-mini`) and an
 * Anthropic one (`claude-sonnet`, plus `claude-embeddings`) both served by the mock; `x-mock-*`
 * headers pass through to it.
 */
export async function startAnthropicRig(): Promise<AnthropicRig> {
  const mock = await startMockServer({ port: 0 });
  const calls: AnthropicRig['calls'] = [];
  // A gateway that refuses to start must not leave the mock holding the process open.
  const gw = await startTestGateway(
    {
      providers: {
        up: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream', forwardHeaders: ['x-mock-*'] },
        anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream', forwardHeaders: ['x-mock-*'] },
      },
      models: {
        'gpt-4o-mini': { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] },
        // For 429 tests: a retry-after pauses the deployment for every later request, so it gets its own alias.
        limited: { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] },
        'claude-sonnet': { deployments: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        'claude-embeddings': {
          type: 'embeddings',
          deployments: [{ provider: 'anthropic', model: 'claude-x', free: true }],
        },
      },
    },
    { observers: [(summary, ctx) => calls.push({ summary, headers: ctx.headers })] },
  ).catch(async (err: unknown) => {
    await mock.close();
    throw err;
  });
  return {
    mock,
    gw,
    calls,
    async settled(requestId) {
      const deadline = Date.now() + 2_000;
      while (Date.now() < deadline) {
        const call = calls.find((c) => c.summary.requestId === requestId);
        if (call) return call.summary;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`call ${requestId} never settled`);
    },
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}

/** A tool definition in OpenAI's shape. */
export const weather = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city'],
  },
};
