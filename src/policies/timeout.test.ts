import assert from 'node:assert/strict';
import { chunksOf, type ChunkBatch } from '../core/chunk-batch.js';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import type { CallContext } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import { compose, type GatewayResult } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';
import {
  chatCall,
  chunk,
  fakeContext,
  scripted,
  serving,
  streamCall,
  streamOf,
  testStates,
} from '../../test/kits/resilience-test-kit.js';
import { firstChunk } from './first-chunk.js';
import { timeout } from './timeout.js';

function setup(timeouts: Record<string, number>) {
  const clock = new FakeClock();
  const { states, deployments } = testStates(
    { chat: { timeouts, deployments: [{ id: 'primary', provider: 'mock', model: 'm' }] } },
    clock,
  );
  return { clock, states, deployment: deployments('chat')[0]! };
}

/** An upstream that never answers; it notices the abort and reports it the way providers do. */
const hangs = (seen: { signal?: AbortSignal }) => (ctx: CallContext) =>
  new Promise<GatewayResult>((_resolve, reject) => {
    seen.signal = ctx.signal;
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });

const content = (i: number): ChatChunk => chunk({ content: `w${i} ` });
const tokens = (n: number): ChatChunk[] => [
  chunk({ role: 'assistant', content: '' }),
  ...Array.from({ length: n }, (_, i) => content(i)),
];

/** When `promise` settled on the fake clock, and how. */
async function timeOf(clock: FakeClock, promise: Promise<unknown>, step = 10, limit = 100_000) {
  let outcome: { at: number; error?: GatewayError; value?: unknown } | undefined;
  promise.then(
    (value) => (outcome = { at: clock.now(), value }),
    (error: GatewayError) => (outcome = { at: clock.now(), error }),
  );
  while (!outcome && clock.now() < limit) await clock.advance(step);
  assert.ok(outcome, 'settled');
  return outcome;
}

const within10 = (at: number, limit: number): void =>
  assert.ok(at >= limit && at <= limit * 1.1, `fired at ${at} ms for a ${limit} ms limit`);

async function consume(stream: AsyncIterable<ChatChunk>, seen: ChatChunk[]): Promise<void> {
  for await (const c of stream) seen.push(c);
}

describe('timeout policy', () => {
  it('firstByteMs (non-stream): fires within 10 %, names the limit, and aborts the upstream call', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 1_000, totalMs: 0 });
    const seen: { signal?: AbortSignal } = {};
    const handler = timeout(states.get(deployment)).wrap(serving(scripted([hangs(seen)]), deployment));
    const { ctx } = fakeContext(clock);
    const outcome = await timeOf(clock, handler(chatCall(), ctx), 1);
    within10(outcome.at, 1_000);
    assert.equal(outcome.error?.code, 'upstream_timeout');
    assert.match(outcome.error.message, /primary: no response within 1000 ms \(timeouts\.firstByteMs\)/);
    assert.equal(outcome.error.headers?.['x-tollgate-timeout'], 'firstByteMs');
    assert.equal(seen.signal?.aborted, true, 'the upstream request is torn down');
    assert.equal(ctx.signal.aborted, false, "the client's signal is untouched");
  });

  it('firstByteMs (stream): time to the first token, the role-only chunk does not count', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 2_000 });
    const upstream = streamOf(tokens(3), { delays: [100, 5_000] }); // role chunk fast, first token late
    const handler = compose(timeout(states.get(deployment)), firstChunk())(serving(scripted([upstream]), deployment));
    const { ctx } = fakeContext(clock);
    const outcome = await timeOf(clock, handler(streamCall(), ctx));
    within10(outcome.at, 2_000);
    assert.match(outcome.error!.message, /no first token within 2000 ms \(timeouts\.firstByteMs\)/);
  });

  it('stallMs: fires within 10 % of the last chunk, after the chunks that came', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 1_000, stallMs: 500 });
    const upstream = streamOf(tokens(4), { delays: [0, 50, 300, 300, 60_000] });
    const handler = compose(timeout(states.get(deployment)), firstChunk())(serving(scripted([upstream]), deployment));
    const { ctx } = fakeContext(clock);
    const result = await timeOf(clock, handler(streamCall(), ctx), 1);
    assert.equal(result.at, 50, 'committed at the first token');
    const seen: ChatChunk[] = [];
    const outcome = await timeOf(
      clock,
      consume(chunksOf((result.value as { batches: AsyncIterable<ChunkBatch> }).batches), seen),
      1,
    );
    assert.equal(seen.length, 4, 'role chunk and three tokens');
    within10(outcome.at - 650, 500); // last chunk at 50 + 300 + 300
    assert.match(outcome.error!.message, /the stream stalled: no chunk for 500 ms \(timeouts\.stallMs\)/);
  });

  it('stallMs is checked from the first token even when firstByteMs is much longer', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 60_000, stallMs: 300 });
    const upstream = streamOf(tokens(2), { delays: [0, 10, 100_000] });
    const handler = compose(timeout(states.get(deployment)), firstChunk())(serving(scripted([upstream]), deployment));
    const { ctx } = fakeContext(clock);
    const result = await timeOf(clock, handler(streamCall(), ctx), 1);
    const chunks = chunksOf((result.value as { batches: AsyncIterable<ChunkBatch> }).batches);
    const outcome = await timeOf(clock, consume(chunks, []), 1);
    within10(outcome.at - 10, 300);
  });

  it('stallMs counts only time spent waiting on the upstream: a slow reader is not a stalled upstream', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 1_000, stallMs: 500, totalMs: 0 });
    const upstream = streamOf(tokens(4)); // every chunk ready at once
    const handler = compose(timeout(states.get(deployment)), firstChunk())(serving(scripted([upstream]), deployment));
    const { ctx } = fakeContext(clock);
    const result = await handler(streamCall(), ctx);
    const seen: ChatChunk[] = [];
    const slowReader = async (): Promise<void> => {
      if (result.kind !== 'stream') return;
      for await (const c of chunksOf(result.batches)) {
        seen.push(c);
        await clock.sleep(5_000); // the client takes 10× the stall limit between reads
      }
    };
    const outcome = await timeOf(clock, slowReader(), 100);
    assert.equal(outcome.error, undefined);
    assert.equal(seen.length, 5);
  });

  it('totalMs: fires within 10 % even on a stream that never stalls', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 1_000, stallMs: 500, totalMs: 3_000 });
    const upstream = streamOf(tokens(100), { delays: Array.from({ length: 101 }, () => 100) });
    const handler = compose(timeout(states.get(deployment)), firstChunk())(serving(scripted([upstream]), deployment));
    const { ctx } = fakeContext(clock);
    const seen: ChatChunk[] = [];
    const run = async (): Promise<void> => {
      const result = await handler(streamCall(), ctx);
      if (result.kind === 'stream') await consume(chunksOf(result.batches), seen);
    };
    const outcome = await timeOf(clock, run(), 1);
    within10(outcome.at, 3_000);
    assert.match(outcome.error!.message, /the attempt took longer than 3000 ms \(timeouts\.totalMs\)/);
    assert.ok(seen.length >= 25 && seen.length <= 31, `${seen.length} chunks before the cut`);
  });

  it('0 turns a limit off; a finished call leaves no timer behind', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 0, stallMs: 0, totalMs: 0 });
    const upstream = streamOf(tokens(2), { delays: [10_000, 10_000, 10_000] });
    const handler = compose(timeout(states.get(deployment)), firstChunk())(serving(scripted([upstream]), deployment));
    const { ctx } = fakeContext(clock);
    const run = async (): Promise<number> => {
      const result = await handler(streamCall(), ctx);
      const seen: ChatChunk[] = [];
      if (result.kind === 'stream') await consume(chunksOf(result.batches), seen);
      return seen.length;
    };
    const outcome = await timeOf(clock, run(), 1_000);
    assert.equal(outcome.value, 3);
    assert.equal(clock.pending, 0, 'no timer left');
  });

  it('the client leaving aborts the upstream through the attempt signal', async () => {
    const { clock, states, deployment } = setup({ firstByteMs: 10_000 });
    const seen: { signal?: AbortSignal } = {};
    const { ctx, abort } = fakeContext(clock);
    const pending = timeout(states.get(deployment)).wrap(serving(scripted([hangs(seen)]), deployment))(chatCall(), ctx);
    pending.catch(() => undefined);
    await clock.advance(100);
    abort(new GatewayError('client_closed', 'client disconnected'));
    await assert.rejects(pending, { code: 'client_closed' });
    assert.equal(seen.signal?.aborted, true);
    assert.equal(clock.pending, 0);
  });
});
