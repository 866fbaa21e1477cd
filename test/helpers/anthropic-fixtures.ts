import { readdirSync, readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import type { ChatRequest, ChatResponse } from '../../src/core/types.js';
import type {
  AnthropicErrorBody,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicStreamEvent,
} from '../../src/protocols/anthropic/wire.js';

/** Where the Anthropic wire-format cases live (see test/fixtures/anthropic/README.md). */
const ROOT = new URL('../fixtures/anthropic/', import.meta.url);

/** `created` in every canonical case. */
export const CREATED = 1_767_225_600;

export function fixtureText(path: string): string {
  return readFileSync(new URL(path, ROOT), 'utf8');
}

export interface RequestFixture {
  description: string;
  canonical?: ChatRequest;
  anthropic: AnthropicRequest;
  /** What the inbound direction makes of `anthropic`, when it is not `canonical`. */
  fromAnthropic?: ChatRequest;
}

export interface ResponseFixture {
  description: string;
  anthropic: AnthropicMessage;
  canonical: ChatResponse;
  rendered: AnthropicMessage;
}

export interface ErrorFixture {
  status: number;
  headers: Record<string, string>;
  body: AnthropicErrorBody;
  expect: { code: string; status: number; retryable: boolean; retryAfterMs?: number };
}

export function fixtureJson<T>(path: string): T {
  return JSON.parse(fixtureText(path)) as T;
}

/** The case names in a folder with a given suffix: `fixtureNames('streams', '.chunks.json')` → ['text', ...]. */
export function fixtureNames(folder: string, suffix: string): string[] {
  return readdirSync(new URL(`${folder}/`, ROOT))
    .filter((name) => name.endsWith(suffix))
    .map((name) => name.slice(0, -suffix.length))
    .sort();
}

/** A raw transcript as `{ event, data }` frames, parsed the way any SSE client parses it. */
export function parseSseFrames(text: string): { event: string | undefined; data: string }[] {
  const frames: { event: string | undefined; data: string }[] = [];
  const parser = createParser({ onEvent: (e) => frames.push({ event: e.event, data: e.data }) });
  parser.feed(text);
  return frames;
}

/** A transcript's JSON events, checking that each frame's `event:` name matches its `type`. */
export function parseSseEvents(text: string): AnthropicStreamEvent[] {
  return parseSseFrames(text).map((frame) => {
    const event = JSON.parse(frame.data) as AnthropicStreamEvent;
    if (frame.event !== event.type) throw new Error(`frame named ${frame.event} holds a ${event.type} event`);
    return event;
  });
}
