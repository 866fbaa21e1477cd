import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ChunkBatch } from '../core/chunk-batch.js';
import { FakeClock } from '../core/clock.js';
import type { GatewayResult } from '../core/pipeline.js';
import type { CallSummary } from '../observability/call-summary.js';
import { fakeContext, streamCall } from '../../test/kits/resilience-test-kit.js';
import { loadEncoding } from '../tokens/tokens.js';
import { settle } from './settle.js';

const frame = (content: string): string =>
  JSON.stringify({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
const usage =
  '{"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}';

async function run(batches: ChunkBatch[]): Promise<{ summaries: CallSummary[]; error: unknown }> {
  const summaries: CallSummary[] = [];
  const upstream = async (): Promise<GatewayResult> => ({
    kind: 'stream',
    batches: (async function* () {
      yield* batches;
    })(),
  });
  const { ctx } = fakeContext(new FakeClock(), 'chat', true);
  ctx.record.deployment = { id: 'd', alias: 'chat', provider: 'mock', model: 'm', params: {}, override: {} };
  const result = await settle([(s) => summaries.push(s)]).wrap(upstream)(streamCall(), ctx);
  if (result.kind !== 'stream') throw new Error('a stream expected');
  let error: unknown;
  try {
    for await (const _batch of result.batches);
  } catch (err) {
    error = err;
  }
  return { summaries, error };
}

describe('settle policy on streams', () => {
  before(() => loadEncoding('o200k_base')); // counts are exact from the first call
  it('takes the usage report from the one frame that holds it', async () => {
    const { summaries } = await run([
      ChunkBatch.fromJson([frame('Hi'), frame(' there')]),
      ChunkBatch.fromJson([usage]),
    ]);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]!.outputTokens, 2);
    assert.equal(summaries[0]!.estimated, false);
  });

  it('without a usage report, counts the streamed text locally', async () => {
    const { summaries } = await run([ChunkBatch.fromJson([frame('Hello'), frame(' world')])]);
    assert.equal(summaries[0]!.estimated, true);
    assert.equal(summaries[0]!.outputTokens, 2);
  });

  it('a frame that is not JSON inside its braces still settles the call once, counting the rest', async () => {
    const { summaries, error } = await run([
      ChunkBatch.fromJson([frame('Hello'), '{"id":"c", not json}', frame(' world')]),
    ]);
    assert.equal(error, undefined, 'nobody read it: relayed as received');
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]!.outputTokens, 2);
    const broken = await run([ChunkBatch.fromJson([frame('a'), '{"usage":{ broken}'])]);
    assert.equal(broken.summaries.length, 1, 'settled once when the usage frame itself is broken');
    assert.equal((broken.error as { code?: string }).code, 'upstream_error');
    // It failed on the first batch, before anything could reach a client: an error, not a truncation.
    assert.equal(broken.summaries[0]!.outcome, 'error');
  });
});
