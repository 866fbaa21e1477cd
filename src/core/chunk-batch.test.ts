import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spyOnJsonParse } from '../../test/helpers/json-parse-spy.js';
import { ChunkBatch, chunksOf } from './chunk-batch.js';
import type { ChatChunk } from './types.js';

// As OpenAI streams with `include_usage`: `"usage":null` on every chunk but the last.
const role =
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}';
const word = (text: string): string =>
  `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}],"usage":null}`;
const finish =
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}';
const usage =
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}';

describe('ChunkBatch', () => {
  it('relays the upstream text byte for byte, parsing nothing', async () => {
    const texts = [role, word('Hello'), word(' "usage":{ quoted'), finish, usage];
    const batch = ChunkBatch.fromJson(texts);
    const { value: sse, parsed } = await spyOnJsonParse(() => batch.toSse());
    assert.equal(parsed.length, 0);
    assert.equal(sse, texts.map((t) => `data: ${t}\n\n`).join(''));
  });

  it('finds the usage report by parsing only the chunk that holds a usage object', async () => {
    const batch = ChunkBatch.fromJson([role, word('a "usage":{"x":1} in text'), finish, usage]);
    const { value: found, parsed } = await spyOnJsonParse(() => batch.usage());
    assert.deepEqual(parsed, [usage]);
    assert.deepEqual(found, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    assert.equal(ChunkBatch.fromJson([role, word('x')]).usage(), undefined);
    // Spaced JSON (a Python server's json.dumps) is still found.
    const spaced = '{"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}';
    assert.equal(ChunkBatch.fromJson([spaced]).usage()?.total_tokens, 2);
  });

  it('withoutUsage: drops the usage chunk and the usage keys, keeping the other bytes as received', () => {
    const batch = ChunkBatch.fromJson([role, word('Hi'), finish, usage]);
    const kept = batch.withoutUsage()!;
    assert.equal(kept.size, 3);
    const expected = [role, word('Hi'), finish].map((t) => `data: ${t.replace(',"usage":null', '')}\n\n`).join('');
    assert.equal(kept.toSse(), expected);
    for (const chunk of kept.chunks()) assert.equal('usage' in chunk, false);
    // A usage-only batch leaves nothing; usage first in the object, and spaced, are handled too.
    assert.equal(ChunkBatch.fromJson([usage]).withoutUsage(), null);
    const first = '{"usage":null,"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}';
    assert.equal(
      ChunkBatch.fromJson([first]).withoutUsage()!.toSse(),
      `data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n`,
    );
    const spaced =
      '{"id": "c", "choices": [{"index": 0, "delta": {"content": "y"}, "finish_reason": null}], "usage": null}';
    const rebuilt = ChunkBatch.fromJson([spaced]).withoutUsage()!;
    assert.deepEqual(rebuilt.chunks(), [
      { id: 'c', choices: [{ index: 0, delta: { content: 'y' }, finish_reason: null }] },
    ]);
    // Built from objects (translated adapters): the same result.
    const objects = ChunkBatch.of(ChunkBatch.fromJson([word('z'), usage]).chunks()).withoutUsage()!;
    assert.equal(objects.size, 1);
    assert.equal('usage' in objects.chunk(0), false);
  });

  it('isPreamble, slice, concat, outputText', () => {
    assert.equal(ChunkBatch.fromJson([role]).isPreamble(), true);
    assert.equal(ChunkBatch.fromJson([role, word('a')]).isPreamble(), false);
    assert.equal(ChunkBatch.fromJson([finish]).isPreamble(), false, 'a finish reason is output');
    const joined = ChunkBatch.concat([ChunkBatch.fromJson([role]), ChunkBatch.fromJson([word('a'), word('b')])]);
    assert.equal(joined.size, 3);
    assert.deepEqual(joined.outputText(), ['a', 'b']);
    assert.deepEqual(joined.slice(1, 2).outputText(), ['a']);
    const tool: ChatChunk = {
      id: 't',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          delta: { refusal: 'no', tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
          finish_reason: null,
        },
      ],
    };
    assert.deepEqual(ChunkBatch.of([tool]).outputText(), ['no', '{"a":1}']);
    assert.equal(ChunkBatch.of([tool]).toSse(), `data: ${JSON.stringify(tool)}\n\n`);
  });

  it('chunksOf flattens batches into chunks, in order', async () => {
    async function* batches(): AsyncGenerator<ChunkBatch> {
      yield ChunkBatch.fromJson([role, word('a')]);
      yield ChunkBatch.fromJson([word('b'), usage]);
    }
    const seen: string[] = [];
    for await (const chunk of chunksOf(batches())) seen.push(chunk.choices[0]?.delta.content ?? '(usage)');
    assert.deepEqual(seen, ['', 'a', 'b', '(usage)']);
  });
});
