import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Issue 8, items 6 and 7: an OpenAI-wire upstream's answer reaches an OpenAI-wire client as the
// upstream's own bytes (spacing, key order, vendor fields), JSON and SSE alike, while the ledger
// still gets the usage it reports.

const JSON_ANSWER =
  '{ "id": "chatcmpl-relay", "object": "chat.completion", "created": 1, "model": "upstream-model",\n' +
  '  "x_vendor": {"trace": "}{"},\n' +
  '  "choices": [{"index": 0, "message": {"role": "assistant", "content": "byte for byte"}, "finish_reason": "stop"}],\n' +
  '  "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14} }';

const chunk = (delta: string, extra = ''): string =>
  `{"id":"c","object":"chat.completion.chunk","created":1,"model":"upstream-model"${extra},"choices":[{"index":0,"delta":${delta},"finish_reason":null}],"usage":null}`;
const FRAMES = [
  chunk('{"role":"assistant","content":""}'),
  chunk('{"content":"byte"}', ',"x_vendor":1'),
  chunk('{"content":" stream"}'),
  '{"id":"c","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}',
];

describe('answers relayed as the upstream bytes', () => {
  let upstream: Server;
  let gw: TestGateway;
  const summaries: CallSummary[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if ((JSON.parse(body) as { stream?: boolean }).stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(FRAMES.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON_ANSWER);
        }
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    gw = await startTestGateway(
      {
        providers: { up: { type: 'openai', baseUrl: `http://127.0.0.1:${port}/v1` } },
        models: { m: { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] } },
      },
      { observers: [(s) => summaries.push(s)] },
    );
  });
  after(async () => {
    await gw.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const post = (body: unknown) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('JSON: the exact upstream text, content-type JSON; the usage in the ledger; an SDK reads it', async () => {
    const res = await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(await res.text(), JSON_ANSWER);
    const summary = summaries.at(-1)!;
    assert.equal(summary.inputTokens, 11);
    assert.equal(summary.outputTokens, 3);
    assert.equal(summary.estimated, false);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices[0]!.message.content, 'byte for byte');
  });

  it('SSE with include_usage: every frame as the upstream sent it, then [DONE]', async () => {
    const res = await post({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(await res.text(), FRAMES.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n');
    assert.equal(summaries.at(-1)!.outputTokens, 2);
  });

  it('SSE without include_usage: the same bytes less the usage chunk and the "usage":null keys', async () => {
    const res = await post({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const expected = FRAMES.slice(0, 3).map((f) => `data: ${f.replace(',"usage":null', '')}\n\n`);
    assert.equal(await res.text(), expected.join('') + 'data: [DONE]\n\n');
    assert.equal(summaries.at(-1)!.outputTokens, 2, 'the ledger still has the usage');
  });
});
