import assert from 'node:assert/strict';
import { chunksOf } from '../../core/chunk-batch.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../config/schema.js';
import type { OpenAIProviderConfig } from '../schema.js';
import { mockTestContext } from '../../../test/kits/mock-test-kit.js';
import { createOpenAIProvider } from './openai-provider.js';

/**
 * Many upstreams send `data: [DONE]` and the end of the chunked body in separate packets. Stopping
 * at [DONE] must drain that end, not destroy the socket: otherwise every stream opens a new
 * connection (a TCP + TLS handshake per call against a real provider).
 */
describe('openai provider: upstream keep-alive across streams', () => {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = {
        id: 'c',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      res.write('data: [DONE]\n\n');
      setTimeout(() => res.end(), 5); // the terminating chunk arrives in its own packet
    });
  });
  server.on('connection', () => connections++);
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reuses one connection for sequential streams', async () => {
    const config = configSchema.parse({ providers: { up: { type: 'openai', baseUrl: url } } }).providers
      .up as OpenAIProviderConfig;
    const provider = createOpenAIProvider('up', config);
    try {
      for (let i = 0; i < 10; i++) {
        const { ctx } = mockTestContext({});
        let text = '';
        for await (const chunk of chunksOf(
          await provider.chatStream({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx),
        )) {
          text += chunk.choices[0]?.delta.content ?? '';
        }
        assert.equal(text, 'hi');
        await new Promise((r) => setTimeout(r, 15)); // let the drained connection return to the pool
      }
      assert.ok(connections <= 2, `${connections} connections for 10 streams`);
    } finally {
      await provider.close?.();
    }
  });
});
