// Cost of the request depth/size check (core/request-limits.ts). Not a test: run it and read the numbers.
//   node --import tsx bench/micro/request-limits.bench.ts
// A typical 2 KB chat body (a system prompt, a few turns, one tool) and a 256 KB one (a long
// conversation with tools and a JSON schema), each checked many times; the median of 15 rounds,
// in µs per body. JSON.parse of the same body is shown for scale.
import { checkRequestLimits } from '../../src/core/request-limits.js';

const words = 'the quick brown fox jumps over the lazy dog and keeps running through the field '.repeat(4);
const tool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
    },
  },
};

function body(turns: number, tools: number): string {
  const messages: unknown[] = [{ role: 'system', content: words }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: `${i} ${words}` });
    messages.push({ role: 'assistant', content: `${i} ${words.slice(0, 120)}` });
  }
  return JSON.stringify({
    model: 'gpt-4o-mini',
    max_tokens: 256,
    temperature: 0.2,
    messages,
    tools: Array.from({ length: tools }, () => tool),
    response_format: { type: 'json_schema', json_schema: { name: 'r', schema: tool.function.parameters } },
  });
}

function measure(label: string, text: string): void {
  const parsed: unknown = JSON.parse(text);
  const iterations = Math.max(200, Math.round(20_000_000 / text.length));
  const rounds: number[] = [];
  const parses: number[] = [];
  for (let r = 0; r < 15; r++) {
    let start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) checkRequestLimits(parsed);
    rounds.push(Number(process.hrtime.bigint() - start) / 1_000 / iterations);
    start = process.hrtime.bigint();
    for (let i = 0; i < Math.ceil(iterations / 10); i++) JSON.parse(text);
    parses.push(Number(process.hrtime.bigint() - start) / 1_000 / Math.ceil(iterations / 10));
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${label.padEnd(8)} ${(text.length / 1024).toFixed(1).padStart(6)} KB  check ${median(rounds).toFixed(2).padStart(8)} µs` +
      `   JSON.parse ${median(parses).toFixed(1).padStart(8)} µs`,
  );
}

measure('typical', body(3, 1));
measure('large', body(480, 60));
