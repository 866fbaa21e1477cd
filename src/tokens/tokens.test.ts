import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { computeChatCompletionTokenCount } from 'gpt-tokenizer/functionCalling';
import gpt4o from 'gpt-tokenizer/model/gpt-4o';
import type { ChatMessage, ChatRequest, ToolDefinition } from '../core/types.js';
import { countChatPrompt, countText, loadEncoding, WorkBudget } from './tokens.js';
import { segments } from './tokens-segments.js';

// Encodings load on first use; these tests count exactly from the first call.
await loadEncoding('o200k_base');

const AS_TEXT = { disallowedSpecial: new Set<string>() };
const unlimited = (): WorkBudget => new WorkBudget(60_000);

const weather: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name, e.g. Paris' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
      required: ['city'],
    },
  },
};
const search: ToolDefinition = {
  type: 'function',
  function: {
    name: 'search_orders',
    description: 'Search the order database',
    parameters: {
      type: 'object',
      properties: {
        filters: {
          type: 'object',
          description: 'What to match',
          properties: {
            status: { type: 'string', enum: ['open', 'shipped'] },
            ids: { type: 'array', items: { type: 'number' } },
          },
          required: ['status'],
        },
        verbose: { type: 'boolean' },
        cursor: { type: 'null' },
      },
    },
  },
};
const ping: ToolDefinition = { type: 'function', function: { name: 'ping' } };

type Fixture = { name: string; request: Pick<ChatRequest, 'messages' | 'tools' | 'tool_choice'> };

/** Chat requests without names or tools: both references (encodeChat and the cookbook rule) apply. */
const plain: Fixture[] = [
  { name: 'one user message', request: { messages: [{ role: 'user', content: 'Hello, world!' }] } },
  {
    name: 'system, user, assistant, user',
    request: {
      messages: [
        { role: 'system', content: 'You are a terse assistant.' },
        { role: 'user', content: 'Name three rivers in Europe.' },
        { role: 'assistant', content: 'Danube, Rhine, Loire.' },
        { role: 'user', content: 'And in Asia?' },
      ],
    },
  },
  {
    name: 'unicode, emoji, CRLF, special-token look-alikes',
    request: {
      messages: [
        { role: 'developer', content: 'Réponds en français. 日本語も OK 👍🏽\r\n\tTabs and <|endoftext|> stay text.' },
        { role: 'user', content: "Ünïcödé 12345678901234567890 ∑∫√ — \"quotes\" and 'apostrophes' it's" },
      ],
    },
  },
  {
    name: 'content parts (text only) and an empty message',
    request: {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'first part' },
            { type: 'text', text: 'second part' },
          ],
        },
        { role: 'assistant', content: '' },
      ],
    },
  },
  {
    name: 'long prose (several segments)',
    request: {
      messages: [
        {
          role: 'user',
          content: readFileSync(new URL('../../test/fixtures/tokens/prose.md', import.meta.url), 'utf8'),
        },
      ],
    },
  },
];

/** Requests with names, tools and tool calls: the cookbook / function-calling rule is the reference. */
const withTools: Fixture[] = [
  {
    name: 'named messages',
    request: {
      messages: [
        { role: 'system', content: 'Be brief.', name: 'policy' },
        { role: 'user', content: 'hi', name: 'alice' },
      ],
    },
  },
  {
    name: 'one tool, no system message',
    request: { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather] },
  },
  {
    name: 'three tools with a system message (padded with a newline)',
    request: {
      messages: [
        { role: 'system', content: 'You help with orders.' },
        { role: 'user', content: 'Find open orders 1, 2 and 3.' },
      ],
      tools: [weather, search, ping],
    },
  },
  {
    name: 'tool_choice none',
    request: { messages: [{ role: 'user', content: 'Just chat.' }], tools: [weather], tool_choice: 'none' },
  },
  {
    name: 'tool_choice forcing a function',
    request: {
      messages: [
        { role: 'system', content: 'Use tools.\n' },
        { role: 'user', content: 'Paris' },
      ],
      tools: [weather, ping],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    },
  },
  {
    name: 'an assistant tool call in the history',
    request: {
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
      ],
      tools: [weather],
    },
  },
];

/** The cookbook / gpt-tokenizer function-calling reference for one fixture. */
function reference(encoding: 'o200k' | 'cl100k', request: Fixture['request']): number {
  const messages = request.messages.map((m: ChatMessage) => {
    const content =
      typeof m.content === 'string'
        ? m.content
        : (m.content ?? []).map((p) => (p as { text?: string }).text ?? '').join('\n');
    const call = m.tool_calls?.[0];
    return {
      role: m.role,
      content,
      ...(m.name ? { name: m.name } : {}),
      ...(call ? { function_call: { name: call.function.name, arguments: call.function.arguments } } : {}),
    };
  });
  const functions = (request.tools ?? []).map((t) => t.function) as never[];
  const choice = request.tool_choice;
  const function_call =
    choice === 'none' ? ('none' as const) : typeof choice === 'object' ? { name: choice.function.name } : undefined;
  const chat = { messages, ...(functions.length ? { functions } : {}), ...(function_call ? { function_call } : {}) };
  // o200k: the model's public API; cl100k (gpt-4 has no function-calling spec there): the same rule, cl100k counts.
  if (encoding === 'o200k') return gpt4o.countChatCompletionTokens!(chat);
  return computeChatCompletionTokenCount(chat, (text) => encodeCl100k(text, AS_TEXT).length);
}

void describe('countChatPrompt equals the reference encoder', () => {
  for (const { name, request } of plain) {
    void it(`o200k, encodeChat: ${name}`, () => {
      const messages = request.messages.map((m) => ({
        role: m.role,
        content:
          typeof m.content === 'string'
            ? m.content
            : (m.content ?? []).map((p) => (p as { text: string }).text).join('\n'),
      }));
      const expected = gpt4o.encodeChat(messages, undefined, AS_TEXT).length;
      const counted = countChatPrompt(request, { budget: unlimited() });
      assert.deepEqual(counted, { tokens: expected, upperBound: expected, exact: true });
      assert.equal(reference('o200k', request), expected);
    });
  }
  for (const { name, request } of [...plain.slice(0, 4), ...withTools]) {
    void it(`o200k, countChatCompletionTokens: ${name}`, () => {
      assert.equal(countChatPrompt(request, { budget: unlimited() }).tokens, reference('o200k', request));
    });
    void it(`cl100k, countChatCompletionTokens: ${name}`, async () => {
      await loadEncoding('cl100k_base');
      const counted = countChatPrompt(request, { encoding: 'cl100k_base', budget: unlimited() });
      assert.equal(counted.tokens, reference('cl100k', request));
      assert.equal(counted.exact, true);
    });
  }
});

void describe('countText', () => {
  void it('remembers the exact count of a long text: a resent history costs no work budget the next time', () => {
    const history = `A system prompt that every turn of a conversation sends again, ${'word '.repeat(200)}#${Math.random()}`;
    const spent = (): WorkBudget => new WorkBudget(-1);
    const remember = true;
    assert.equal(countText(history, { budget: spent(), remember }).exact, false, 'not counted yet: an estimate');
    const first = countText(history, { budget: new WorkBudget(60_000), remember });
    assert.equal(first.exact, true);
    assert.equal(first.tokens, encodeO200k(history).length);
    assert.deepEqual(countText(history, { budget: spent(), remember }), first, 'remembered: exact without spending');
    assert.equal(countText(history, { budget: spent() }).exact, false, 'only where asked');
    const short = `short ${Math.random()}`;
    countText(short, { budget: new WorkBudget(60_000), remember });
    assert.equal(countText(short, { budget: spent(), remember }).exact, false, 'short texts are counted, not kept');
    // A chat prompt remembers everything but its newest message.
    const prompt = (latest: string): Pick<ChatRequest, 'messages'> => ({
      messages: [
        { role: 'system', content: history },
        { role: 'user', content: latest },
      ],
    });
    const exact = countChatPrompt(prompt('hi'), { budget: new WorkBudget(60_000) });
    const again = countChatPrompt(prompt('hi'), { budget: spent() });
    // With no budget left, only the short parts are estimated (bytes as their bound): the history's
    // count is the remembered one (estimating it would add ~1,000 to the bound).
    const extra = again.upperBound - exact.upperBound;
    assert.ok(extra > 0 && extra < 20, `bound ${again.upperBound} vs exact ${exact.upperBound}`);
    assert.equal(again.exact, false, 'the newest message is counted afresh');
  });

  void it('equals encode() on real documents, cut into bounded segments', () => {
    // Frozen copies (README and docs/mock.md as of an earlier commit) and the lock file: documents that
    // change under the test would move its target. A run of 128+ characters without whitespace (a
    // wide Markdown table rule) is cut hard and may count one token off; these have none.
    for (const file of ['test/fixtures/tokens/prose.md', 'test/fixtures/tokens/mock-doc.md', 'package-lock.json']) {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      assert.equal(countText(text, { budget: unlimited() }).tokens, encodeO200k(text, AS_TEXT).length, file);
    }
  });

  void it('cl100k equals encode() once loaded', async () => {
    await loadEncoding('cl100k_base');
    const text = 'Tokens: 日本語, emoji 👍🏽, code `x => x * 2`.';
    assert.equal(countText(text, { encoding: 'cl100k_base' }).tokens, encodeCl100k(text, AS_TEXT).length);
  });

  void it('never lets a piece grow long: runs without whitespace are cut every 128 characters or sooner', () => {
    const text = `${'a'.repeat(1000)} ${'x'.repeat(5000)}`;
    for (const [start, end] of segments(text)) assert.ok(end - start <= 1024 + 128, `${start}-${end}`);
    const cuts = [...segments('ab'.repeat(200))].map(([s, e]) => e - s);
    assert.ok(Math.max(...cuts) <= 128);
  });

  void it('does not split a surrogate pair at a hard cut', () => {
    const text = '😀'.repeat(300); // no whitespace, no ASCII: only hard cuts
    for (const [start, end] of segments(text)) {
      const code = text.charCodeAt(start);
      assert.ok(!(code >= 0xdc00 && code <= 0xdfff), `segment ${start}-${end} starts inside a pair`);
    }
  });

  void it('past the work budget, estimates the rest and bounds it by its UTF-8 bytes', () => {
    const text = 'word '.repeat(50_000);
    const count = countText(text, { budget: new WorkBudget(0) });
    assert.equal(count.exact, false);
    assert.ok(count.upperBound >= encodeO200k(text, AS_TEXT).length);
    assert.equal(count.upperBound, Buffer.byteLength(text));
  });

  void it('a budget is shared: once spent, later texts of the request are estimated', () => {
    const budget = new WorkBudget(0);
    budget.check();
    const count = countText('hello there', { budget });
    assert.equal(count.exact, false);
    assert.ok(count.upperBound >= 2);
  });

  void it('images are estimated, and bounded by imageTokensMax', () => {
    const count = countChatPrompt(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this' },
              { type: 'image_url', image_url: { url: 'data:,' } },
            ],
          },
        ],
      },
      // A generous work budget: the default few ms can run out on a loaded machine, which widens the bound.
      { imageTokens: 85, imageTokensMax: 1000, budget: unlimited() },
    );
    assert.equal(count.exact, false);
    assert.equal(count.upperBound - count.tokens, 1000 - 85);
  });
});
