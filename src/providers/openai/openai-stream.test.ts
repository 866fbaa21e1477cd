import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ChunkBatch } from '../../core/chunk-batch.js';
import { GatewayError } from '../../core/errors.js';
import { configSchema } from '../../config/schema.js';
import type { OpenAIProviderConfig } from '../schema.js';
import { mockTestContext } from '../../../test/kits/mock-test-kit.js';
import { createOpenAIProvider } from './openai-provider.js';

const frame = (content: string): string =>
  `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"usage":null}`;

/** Each reply is a list of writes; a write is sent as one packet, 5 ms apart. */
let writes: string[] = [];

/**
 * The openai provider moves a stream in batches, one per upstream read, each holding the frames'
 * text as received: the client gets the upstream's bytes, and a fault in a read still delivers
 * the frames before it.
 */
describe('openai provider: streams as batches of the upstream bytes', () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const queue = [...writes];
      const next = (): void => {
        const write = queue.shift();
        if (write === undefined) return void res.end();
        res.write(write);
        setTimeout(next, 5);
      };
      next();
    });
  });
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const read = async (): Promise<{ batches: ChunkBatch[]; error?: GatewayError }> => {
    const provider = createOpenAIProvider(
      'up',
      configSchema.parse({ providers: { up: { type: 'openai', baseUrl: url } } }).providers.up as OpenAIProviderConfig,
    );
    const batches: ChunkBatch[] = [];
    try {
      const stream = await provider.chatStream(
        { model: 'm', messages: [{ role: 'user', content: 'x' }] },
        mockTestContext({}).ctx,
      );
      for await (const batch of stream) batches.push(batch);
      return { batches };
    } catch (err) {
      return { batches, error: err as GatewayError };
    } finally {
      await provider.close?.();
    }
  };

  it('one batch per read, relayed as the exact bytes received', async () => {
    const first = `data: ${frame('a')}\n\ndata: ${frame('b')}\n\n`;
    const second = `data: ${frame('c é "q"')}\n\ndata: [DONE]\n\n`;
    writes = [first, second];
    const { batches, error } = await read();
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => b.size),
      [2, 1],
    );
    assert.equal(batches.map((b) => b.toSse()).join(''), first + `data: ${frame('c é "q"')}\n\n`);
  });

  it('a frame cut short fails the stream after the frames before it in the same read', async () => {
    writes = [`data: ${frame('a')}\n\ndata: ${frame('b').slice(0, 30)}\n\ndata: ${frame('c')}\n\n`];
    const { batches, error } = await read();
    assert.deepEqual(
      batches.flatMap((b) => b.outputText()),
      ['a'],
    );
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_error');
    assert.match(error.message, /malformed stream event/);
  });

  it('an in-band error fails the stream after the frames before it; a null error key is not one', async () => {
    const nullError = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"n"},"finish_reason":null}],"error":null}`;
    writes = [
      `data: ${frame('a')}\n\ndata: ${nullError}\n\ndata: {"error":{"message":"overloaded","code":"server_error"}}\n\n`,
    ];
    const { batches, error } = await read();
    assert.deepEqual(
      batches.flatMap((b) => b.outputText()),
      ['a', 'n'],
    );
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.upstreamMessage, 'overloaded');
  });

  it('a body that ends before [DONE] fails the stream after what it sent', async () => {
    writes = [`data: ${frame('a')}\n\n`];
    const { batches, error } = await read();
    assert.equal(batches.length, 1);
    assert.match(error!.message, /ended before \[DONE\]/);
  });
});
