import assert from 'node:assert/strict';
import { ChunkBatch, chunksOf } from '../core/chunk-batch.js';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import type { GatewayResult } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';
import {
  chunk,
  drain,
  fakeContext,
  scripted,
  serving,
  streamCall,
  streamOf,
} from '../../test/kits/resilience-test-kit.js';
import { firstChunk } from './first-chunk.js';

const role = chunk({ role: 'assistant', content: '' });
const word = (text: string): ChatChunk => chunk({ content: text });
const deployment = { id: 'd', alias: 'chat', provider: 'mock', model: 'm', params: {}, override: {} };

describe('first-chunk policy (the stream commit point)', () => {
  it('a stream that fails before its first token throws from the handler (retry and fallback can act)', async () => {
    const cut = new GatewayError('upstream_error', 'other side closed');
    const next = scripted([streamOf([role], { failWith: cut })]);
    const { ctx } = fakeContext(new FakeClock());
    await assert.rejects(firstChunk().wrap(serving(next, deployment))(streamCall(), ctx), { code: 'upstream_error' });
  });

  it('after the first token, chunks are replayed in order and later failures come out of the stream', async () => {
    const cut = new GatewayError('upstream_error', 'other side closed');
    const next = scripted([streamOf([role, word('a'), word('b')], { failWith: cut })]);
    const { ctx } = fakeContext(new FakeClock());
    const result = await firstChunk().wrap(serving(next, deployment))(streamCall(), ctx);
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of chunksOf((result as { batches: AsyncIterable<ChunkBatch> }).batches))
          seen.push(c.choices[0]?.delta.content ?? '');
      })(),
      { code: 'upstream_error' },
    );
    assert.deepEqual(seen, ['', 'a', 'b']);
  });

  it('stopping the stream before reading it closes the upstream', async () => {
    let closed = false;
    async function* upstream(): AsyncGenerator<ChunkBatch> {
      try {
        yield ChunkBatch.of([role]);
        yield ChunkBatch.of([word('a')]);
        yield ChunkBatch.of([word('b')]);
      } finally {
        closed = true;
      }
    }
    const next = scripted([async (): Promise<GatewayResult> => ({ kind: 'stream', batches: upstream() })]);
    const { ctx } = fakeContext(new FakeClock());
    const result = await firstChunk().wrap(serving(next, deployment))(streamCall(), ctx);
    if (result.kind !== 'stream') throw new Error('stream expected');
    await result.batches[Symbol.asyncIterator]().return?.();
    assert.equal(closed, true);
  });

  it('an empty stream and a non-stream pass through', async () => {
    const { ctx } = fakeContext(new FakeClock());
    const empty = await firstChunk().wrap(serving(scripted([streamOf([])]), deployment))(streamCall(), ctx);
    assert.deepEqual(await drain(empty), []);
  });
});
