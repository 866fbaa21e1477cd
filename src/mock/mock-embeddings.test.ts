import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { generateEmbeddings } from './mock-embeddings.js';

const model = 'text-embedding-3-small';
const norm = (v: number[]): number => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));

describe('mock engine: embeddings', () => {
  it('returns one unit vector of 1536 floats per input, in order', async () => {
    const res = await generateEmbeddings({ model, input: ['alpha', 'beta'] }, 42);
    assert.equal(res.object, 'list');
    assert.equal(res.model, model);
    assert.deepEqual(
      res.data.map((d) => d.index),
      [0, 1],
    );
    for (const item of res.data) {
      const vector = item.embedding as number[];
      assert.equal(vector.length, 1536);
      assert.ok(Math.abs(norm(vector) - 1) < 1e-5);
    }
  });

  it('embeds the same text the same way in any batch, and honours dimensions', async () => {
    const alone = await generateEmbeddings({ model, input: 'beta' }, 42);
    const batch = await generateEmbeddings({ model, input: ['alpha', 'beta'] }, 42);
    assert.deepEqual(alone.data[0]?.embedding, batch.data[1]?.embedding);
    assert.notDeepEqual(batch.data[0]?.embedding, batch.data[1]?.embedding);
    const small = await generateEmbeddings({ model, input: 'beta', dimensions: 256 }, 42);
    assert.equal((small.data[0]?.embedding as number[]).length, 256);
  });

  it('encodes base64 as little-endian float32 of exactly the float values', async () => {
    const floats = await generateEmbeddings({ model, input: 'gamma' }, 42);
    const b64 = await generateEmbeddings({ model, input: 'gamma', encoding_format: 'base64' }, 42);
    const bytes = Buffer.from(b64.data[0]?.embedding as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(decoded, floats.data[0]?.embedding);
  });

  it('counts cl100k tokens of string inputs and the length of token inputs', async () => {
    const texts = ['hello world', 'The quick brown fox <|endoftext|>'];
    const res = await generateEmbeddings({ model, input: texts }, 42);
    const expected = texts.reduce((sum, t) => sum + encode(t, { disallowedSpecial: new Set() }).length, 0);
    assert.deepEqual(res.usage, { prompt_tokens: expected, total_tokens: expected });
    const tokens = await generateEmbeddings({ model, input: [[1, 2, 3], [4]] }, 42);
    assert.equal(tokens.usage.prompt_tokens, 4);
    assert.equal(tokens.data.length, 2);
  });
});
