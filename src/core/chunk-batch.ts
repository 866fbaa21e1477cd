import { isPreamble } from './chunks.js';
import { GatewayError } from './errors.js';
import { hasObjectAt } from './json-scan.js';
import type { ChatChunk, Usage } from './types.js';

/**
 * The unit a stream moves in: the chunks one upstream read delivered (one or many). From an
 * OpenAI-wire upstream a batch holds each chunk's JSON text as received and parses a chunk only
 * when a stage asks for it (`chunk(i)`); `toSse()` renders the batch for an OpenAI-wire client
 * from those same texts, so a stream no stage reads is relayed as bytes, one write per upstream
 * read. Adapters that translate (Anthropic) or generate (the mock) build batches of objects.
 *
 * Chunks handed out are shared with the batch's text: treat them as read-only. A stage that
 * changes chunks builds a new batch (`withoutUsage`, `slice`, `ChunkBatch.of`).
 *
 * Reading keys without parsing relies on JSON's escaping: inside a string value every `"` is
 * escaped, so an unescaped `"usage":` or `"error":` can only be a key.
 *
 * @example const batch = ChunkBatch.fromJson(['{"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[]}']);
 *   res.write(batch.toSse()); // data: {"id":"c",…}\n\n — the text as received, never parsed
 */
export class ChunkBatch {
  private constructor(
    /** Each chunk's JSON as received; undefined for chunks that exist only as objects. */
    private readonly texts: readonly (string | undefined)[],
    /** Each chunk as an object, once parsed or when built from objects. */
    private readonly objects: (ChatChunk | undefined)[],
  ) {}

  /** A batch of chunks built in the gateway (translated, generated, changed). */
  static of(chunks: readonly ChatChunk[]): ChunkBatch {
    return new ChunkBatch(new Array<undefined>(chunks.length).fill(undefined), [...chunks]);
  }

  /** A batch of chunk JSON texts as an upstream sent them (the caller owes `isJsonObjectText` of each). */
  static fromJson(texts: readonly string[]): ChunkBatch {
    return new ChunkBatch(texts, new Array<undefined>(texts.length).fill(undefined));
  }

  /** One batch of several, in order (e.g. the held opening chunks and the first real one). */
  static concat(batches: readonly ChunkBatch[]): ChunkBatch {
    if (batches.length === 1) return batches[0]!;
    const texts: (string | undefined)[] = [];
    const objects: (ChatChunk | undefined)[] = [];
    for (const batch of batches) {
      texts.push(...batch.texts);
      objects.push(...batch.objects);
    }
    return new ChunkBatch(texts, objects);
  }

  get size(): number {
    return this.objects.length;
  }

  /**
   * Chunk `i`, parsed on first use. A frame that passed the relay's cheap check but is not JSON
   * throws `upstream_error` (a malformed stream event), as it would have where it arrived.
   */
  chunk(i: number): ChatChunk {
    let chunk = this.objects[i];
    if (chunk === undefined) {
      try {
        chunk = JSON.parse(this.texts[i]!) as ChatChunk;
      } catch {
        throw new GatewayError('upstream_error', 'upstream sent a malformed stream event');
      }
      this.objects[i] = chunk;
    }
    return chunk;
  }

  /** Every chunk as an object (parses those not parsed yet). */
  chunks(): ChatChunk[] {
    const out: ChatChunk[] = new Array<ChatChunk>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.chunk(i);
    return out;
  }

  /** The last usage report in the batch; parses only the chunks whose text has a `usage` object. */
  usage(): Usage | undefined {
    let usage: Usage | undefined;
    for (let i = 0; i < this.size; i++) {
      const text = this.texts[i];
      if (text !== undefined && !hasObjectAt(text, '"usage"')) continue;
      const found = this.chunk(i).usage;
      if (found) usage = found;
    }
    return usage;
  }

  /** Whether every chunk is a content-less opening chunk (`isPreamble`); parses them. */
  isPreamble(): boolean {
    for (let i = 0; i < this.size; i++) if (!isPreamble(this.chunk(i))) return false;
    return true;
  }

  slice(start: number, end?: number): ChunkBatch {
    return new ChunkBatch(this.texts.slice(start, end), this.objects.slice(start, end));
  }

  /**
   * The batch as a client that did not ask for usage sees it: the usage-only chunk dropped and
   * `usage` keys removed, as OpenAI streams without `include_usage`. Texts keep their bytes
   * where the key is the usual `"usage":null`; anything else is parsed and rebuilt. Null when
   * nothing is left.
   */
  withoutUsage(): ChunkBatch | null {
    const texts: (string | undefined)[] = [];
    const objects: (ChatChunk | undefined)[] = [];
    for (let i = 0; i < this.size; i++) {
      const text = this.texts[i];
      if (text !== undefined) {
        const stripped = stripNullUsage(text);
        if (stripped !== null) {
          texts.push(stripped);
          objects.push(stripped === text ? this.objects[i] : undefined);
          continue;
        }
      }
      const chunk = this.chunk(i);
      if (chunk.usage === undefined) {
        texts.push(text);
        objects.push(chunk);
        continue;
      }
      if (chunk.choices.length === 0) continue; // the usage chunk itself
      const { usage: _usage, ...rest } = chunk;
      texts.push(undefined);
      objects.push(rest);
    }
    if (objects.length === 0) return null;
    return new ChunkBatch(texts, objects);
  }

  /** The batch as OpenAI server-sent events: `data: <chunk>\n\n` each, the received text where there is one. */
  toSse(): string {
    let out = '';
    for (let i = 0; i < this.size; i++) {
      out += `data: ${this.texts[i] ?? JSON.stringify(this.objects[i])}\n\n`;
    }
    return out;
  }

  /** The text this batch streams (content, refusals, tool-call arguments), for counting tokens locally. */
  outputText(): string[] {
    const parts: string[] = [];
    for (let i = 0; i < this.size; i++) this.textOf(i, parts);
    return parts;
  }

  /** The text chunk `i` streams, appended to `parts` (parses the chunk). */
  textOf(i: number, parts: string[]): void {
    for (const choice of this.chunk(i).choices) {
      const delta = choice.delta;
      if (typeof delta.content === 'string' && delta.content !== '') parts.push(delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') parts.push(delta.refusal);
      for (const call of delta.tool_calls ?? []) if (call.function?.arguments) parts.push(call.function.arguments);
    }
  }

  /** Characters of JSON text this batch holds (objects not counted): what keeping it costs. */
  textLength(): number {
    let length = 0;
    for (const text of this.texts) if (text !== undefined) length += text.length;
    return length;
  }
}

/**
 * The stream, chunk by chunk: what library callers iterate. Stopping it (`return()`, `break`)
 * stops the batches' iterator even before the first chunk was asked for. The stages above the
 * commit point are async generators, which ignore a `return()` before their first `next()`, so
 * an unread stream is first stepped once — its first batch is already in memory (the commit
 * point read it) — and then stopped: the upstream is released and the call settled either way.
 */
export function chunksOf(batches: AsyncIterable<ChunkBatch>): AsyncIterableIterator<ChatChunk> {
  const source = batches[Symbol.asyncIterator]();
  let pending: ChatChunk[] = [];
  let index = 0;
  let done = false;
  let started = false;
  const iterator: AsyncIterableIterator<ChatChunk> = {
    async next(): Promise<IteratorResult<ChatChunk>> {
      while (index >= pending.length) {
        if (done) return { done: true, value: undefined };
        started = true;
        const step = await source.next();
        if (step.done) {
          done = true;
          return { done: true, value: undefined };
        }
        pending = step.value.chunks();
        index = 0;
      }
      return { done: false, value: pending[index++]! };
    },
    async return(): Promise<IteratorResult<ChatChunk>> {
      if (!done) {
        done = true;
        pending = [];
        if (!started) await source.next().catch(() => undefined);
        await source.return?.();
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

const NULL_USAGE = '"usage":null';

/**
 * The text without its `usage` key: unchanged when it has none, the key cut out when it is the
 * compact `"usage":null` beside a comma; null when the chunk must be parsed (a usage object,
 * other spacing).
 */
function stripNullUsage(text: string): string | null {
  const at = text.indexOf('"usage"');
  if (at < 0) return text;
  if (!text.startsWith(NULL_USAGE, at)) return null;
  const end = at + NULL_USAGE.length;
  if (text.charCodeAt(at - 1) === 0x2c /* , */) return text.slice(0, at - 1) + text.slice(end);
  if (text.charCodeAt(end) === 0x2c) return text.slice(0, at) + text.slice(end + 1);
  return null;
}
