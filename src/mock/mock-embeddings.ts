import type { EmbeddingRequest, EmbeddingResponse } from '../core/types.js';
import { createRandom, hashString } from './mock-random.js';
import { loadEmbeddingTokenCounter } from './mock-tokens.js';

/** text-embedding-3-small's size, used when the request sets no `dimensions`. */
export const DEFAULT_DIMENSIONS = 1536;

/**
 * Deterministic embeddings: one unit vector per input, a function of (seed, that input) alone,
 * so the same text embeds the same in any batch. Values are float32 (as OpenAI's are), so the
 * `base64` form decodes to exactly the numbers of the `float` form. Usage counts cl100k_base
 * tokens (text-embedding-3's encoding); token-array inputs count their length.
 *
 * @example const res = await generateEmbeddings({ model: 'text-embedding-3-small', input: 'hi' }, 42);
 *   (res.data[0].embedding as number[]).length // → 1536
 */
export async function generateEmbeddings(req: EmbeddingRequest, seed: number): Promise<EmbeddingResponse> {
  const inputs = normalizeInputs(req.input);
  const countTokens = inputs.some((input) => typeof input === 'string') ? await loadEmbeddingTokenCounter() : null;
  const dimensions = req.dimensions ?? DEFAULT_DIMENSIONS;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    const key = typeof input === 'string' ? `s:${input}` : `t:${input.join(',')}`;
    tokens += typeof input === 'string' ? (countTokens?.(input) ?? 0) : input.length;
    const vector = unitVector(hashString(key, seed), dimensions);
    const embedding = req.encoding_format === 'base64' ? toBase64(vector) : Array.from(vector);
    return { object: 'embedding' as const, index, embedding };
  });
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** Splits `input` into its items: strings, or token arrays. */
export function normalizeInputs(input: EmbeddingRequest['input']): (string | number[])[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  if (typeof input[0] === 'number') return [input as number[]];
  return input as (string | number[])[];
}

function unitVector(seed: number, dimensions: number): Float32Array {
  const rng = createRandom(seed);
  const values = new Float64Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const v = rng.next() * 2 - 1;
    values[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = (values[i] ?? 0) / norm;
  return out;
}

/** Little-endian float32 bytes in base64, whatever the host's byte order. */
function toBase64(vector: Float32Array): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] ?? 0, i * 4);
  return bytes.toString('base64');
}
