// Tokenizer cost per request, normal and hostile. Not a test: run it and read the numbers.
//   node --expose-gc --import tsx bench/micro/tokens.bench.ts
// Reports, per input, how long one request's pre-flight count blocks the event loop (30 runs:
// median and p95 wall time, p95 CPU time) with the default 3 ms work budget, and one unbounded
// count for comparison. Random inputs defeat the merge cache, as an attacker's would. Wall times
// include preemption by other processes: read them with the machine's load average.
import { readFileSync } from 'node:fs';
import { clearMergeCache } from 'gpt-tokenizer/encoding/o200k_base';
import { countChatPrompt, countText, WorkBudget } from '../../src/tokens/tokens.js';

let seed = 7;
const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
/** Random text without building a million one-character strings (whose garbage would be collected mid-measure). */
const pick = (alphabet: string[], n: number): string => {
  const codes = new Uint16Array(n);
  const table = alphabet.map((c) => c.charCodeAt(0));
  for (let i = 0; i < n; i++) codes[i] = table[Math.floor(random() * table.length)]!;
  let text = '';
  for (let i = 0; i < n; i += 8_192) text += String.fromCharCode(...codes.subarray(i, i + 8_192));
  return text;
};
const lower = [...'abcdefghijklmnopqrstuvwxyz'];
const base64 = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'];
const cjk = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(0x4e00 + i));
/** Real English (this repository's docs), from a random offset: what prompts mostly look like. */
const corpus = ['README.md', 'docs/architecture.md', 'docs/configuration.md', 'docs/mock.md', 'docs/errors.md']
  .map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8'))
  .join('\n');
const prose = (chars: number): string => {
  let text = '';
  while (text.length < chars) {
    const at = Math.floor(random() * corpus.length);
    text += corpus.slice(at, at + Math.min(chars - text.length, 4_000));
  }
  return text;
};
const gibberish = (chars: number): string => {
  const words = Array.from({ length: chars / 6 }, () => pick(lower, 2 + Math.floor(random() * 8)));
  return words.join(' ').slice(0, chars);
};

const inputs: [string, () => string][] = [
  ['English 2 KB (typical prompt)', () => prose(2_000)],
  ['English 64 KB', () => prose(64_000)],
  ['English 1 MB', () => prose(1_000_000)],
  ['random-letter words 2 KB', () => gibberish(2_000)],
  ["'a' x 100k (one run, no spaces)", () => 'a'.repeat(100_000)],
  ['random letters 1 MB, no spaces', () => pick(lower, 1_000_000)],
  ['random base64 1 MB', () => pick(base64, 1_000_000)],
  ['random CJK 1 MB chars', () => pick(cjk, 1_000_000)],
];

interface Sample {
  wall: number;
  cpu: number;
  exact: boolean;
}

/** Wall and CPU ms of one request's count; CPU time excludes preemption by other processes. */
function once(text: string, budgetMs: number): Sample {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const count = countChatPrompt({ messages: [{ role: 'user', content: text }] }, { budget: new WorkBudget(budgetMs) });
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, exact: count.exact };
}

const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

countText('warm up the encoder');
console.log(
  'input'.padEnd(36),
  'p50 wall'.padStart(10),
  'p95 wall'.padStart(10),
  'p95 cpu'.padStart(10),
  'exact'.padStart(6),
  'unbounded'.padStart(11),
);
for (const [name, make] of inputs) {
  const samples: Sample[] = [];
  for (let i = 0; i < 30; i++) {
    // A flat string, as JSON.parse hands a request body over (a concatenated one would be flattened inside the timing).
    const text = JSON.parse(JSON.stringify(make())) as string;
    (globalThis as { gc?: () => void }).gc?.();
    // Hostile inputs start from a cold merge cache; English keeps the warm cache real traffic has.
    if (!name.startsWith('English')) clearMergeCache();
    samples.push(once(text, 3));
  }
  const unbounded = name.includes('1 MB') ? null : once(JSON.parse(JSON.stringify(make())) as string, 1e9);

  console.log(
    name.padEnd(36),
    `${pct(
      samples.map((s) => s.wall),
      50,
    ).toFixed(2)} ms`.padStart(10),
    `${pct(
      samples.map((s) => s.wall),
      95,
    ).toFixed(2)} ms`.padStart(10),
    `${pct(
      samples.map((s) => s.cpu),
      95,
    ).toFixed(2)} ms`.padStart(10),
    String(samples.every((s) => s.exact)).padStart(6),
    (unbounded ? `${unbounded.wall.toFixed(1)} ms` : '-').padStart(11),
  );
}
