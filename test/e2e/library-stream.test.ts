import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createGateway, type Gateway } from '../../src/gateway.js';
import type { ChatChunk } from '../../src/core/types.js';
import type { CallSummary } from '../../src/observability/call-summary.js';

// Issue 8, item 3: the library and the HTTP server run calls the same way; a library
// `chatStream()` caller who did not ask for usage gets no usage chunk, as an HTTP client would.

async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** A library gateway on the mock, with every call's summary collected. */
async function start(): Promise<{ gateway: Gateway; summaries: CallSummary[] }> {
  const summaries: CallSummary[] = [];
  const gateway = await createGateway({
    config: {
      storage: { url: 'sqlite::memory:' },
      providers: { mock: { type: 'mock' } },
      models: { m: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
    },
    logger: pino({ level: 'silent' }),
    observers: [(summary) => summaries.push(summary)],
  });
  return { gateway, summaries };
}

void describe('library chatStream()', () => {
  void it('yields no usage chunk and no usage keys without include_usage; exactly one with it; the ledger has usage either way', async () => {
    const { gateway, summaries } = await start();
    try {
      const messages = [{ role: 'user', content: 'Say something short.' }];
      const silent = await collect(await gateway.chatStream({ model: 'm', messages }));
      assert.ok(silent.length > 2, `${silent.length} chunks`);
      assert.equal(silent.filter((c) => c.choices.length === 0).length, 0, 'no usage chunk');
      assert.ok(
        silent.every((c) => c.usage === undefined || c.usage === null),
        'no usage keys',
      );
      assert.ok(silent.some((c) => c.choices[0]?.finish_reason === 'stop'));

      const asked = await collect(
        await gateway.chatStream({ model: 'm', messages, stream_options: { include_usage: true } }),
      );
      const usageChunks = asked.filter((c) => c.choices.length === 0 && c.usage);
      assert.equal(usageChunks.length, 1);
      assert.equal(asked.at(-1), usageChunks[0], 'the usage chunk comes last');

      assert.equal(summaries.length, 2);
      const [first, second] = summaries;
      assert.ok(
        first!.outputTokens > 0 && first!.estimated === false,
        'usage recorded from the upstream, not estimated',
      );
      assert.equal(first!.outputTokens, second!.outputTokens);
      assert.equal(second!.outputTokens, usageChunks[0]!.usage!.completion_tokens);
    } finally {
      await gateway.close();
    }
  });

  void it('a stream stopped before its first chunk still settles its call and releases the upstream', async () => {
    const { gateway, summaries } = await start();
    try {
      const stream = await gateway.chatStream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      await stream[Symbol.asyncIterator]().return?.();
      assert.equal(summaries.length, 1, 'settled once');
      assert.equal(summaries[0]!.outcome, 'truncated');
      // And a stream left after its first chunk, with break.
      for await (const _chunk of await gateway.chatStream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }))
        break;
      assert.equal(summaries.length, 2);
    } finally {
      await gateway.close();
    }
  });
});
