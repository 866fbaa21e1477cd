// Correctness before measurement: one JSON and one SSE request (and one SSE request on each
// paced upstream) through every target must answer 200 with the expected shape. With the
// canned upstream the content is known exactly, so it is compared exactly.
import { request } from 'undici';
import {
  CHAT_PATH,
  COMPLETION_TEXT,
  REQUEST_HEADERS,
  STREAM_DATA_FRAMES,
  STREAM_TEXT,
  USAGE_JSON,
  USAGE_STREAM,
  chatBody,
} from './wire.js';

interface Endpoint {
  url: string;
  model: string;
}
export interface VerifyTarget {
  name: string;
  base: Endpoint;
  paced: Endpoint;
  rolePaused: Endpoint;
  splitEnd: Endpoint;
}

export interface Check {
  target: string;
  kind: 'json' | 'sse' | 'sse-paced' | 'sse-role-paused' | 'sse-split-end';
  ok: boolean;
  status: number;
  detail: string;
}

interface Chunk {
  object?: string;
  choices?: { delta?: { role?: string; content?: string } }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export async function verifyTarget(t: VerifyTarget, exact: boolean): Promise<Check[]> {
  const checks: Check[] = [];
  checks.push(await check(t.name, 'json', t.base.url, t.base.model, exact));
  checks.push(await check(t.name, 'sse', t.base.url, t.base.model, exact));
  checks.push(await check(t.name, 'sse-paced', t.paced.url, t.paced.model, exact));
  checks.push(await check(t.name, 'sse-role-paused', t.rolePaused.url, t.rolePaused.model, exact));
  checks.push(await check(t.name, 'sse-split-end', t.splitEnd.url, t.splitEnd.model, exact));
  return checks;
}

async function check(target: string, kind: Check['kind'], url: string, model: string, exact: boolean): Promise<Check> {
  const stream = kind !== 'json';
  let status = 0;
  try {
    const res = await request(url + CHAT_PATH, {
      method: 'POST',
      headers: REQUEST_HEADERS,
      body: chatBody(stream, model),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    status = res.statusCode;
    const text = await res.body.text();
    const ct = String(res.headers['content-type'] ?? '');
    const problems: string[] = [];
    if (status !== 200) problems.push(`HTTP ${status}: ${text.slice(0, 200)}`);
    else if (!stream) {
      if (!ct.startsWith('application/json')) problems.push(`content-type ${ct}`);
      const j = JSON.parse(text) as {
        object?: string;
        choices?: { message?: { role?: string; content?: string } }[];
        usage?: Record<string, number>;
      };
      const content = j.choices?.[0]?.message?.content;
      if (j.object !== 'chat.completion') problems.push(`object ${j.object}`);
      if (j.choices?.[0]?.message?.role !== 'assistant') problems.push('no assistant message');
      if (typeof content !== 'string' || content.length === 0) problems.push('empty content');
      else if (exact && content !== COMPLETION_TEXT) problems.push('content differs from the upstream answer');
      if (!j.usage || !(j.usage.total_tokens! > 0)) problems.push('no usage');
      else if (exact && j.usage.total_tokens !== USAGE_JSON.total_tokens)
        problems.push(`usage ${JSON.stringify(j.usage)}`);
    } else {
      if (!ct.startsWith('text/event-stream')) problems.push(`content-type ${ct}`);
      const frames = text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim());
      if (frames.at(-1) !== '[DONE]') problems.push('last frame is not [DONE]');
      const chunks = frames.filter((f) => f !== '[DONE]').map((f) => JSON.parse(f) as Chunk);
      if (chunks.some((c) => c.object !== 'chat.completion.chunk'))
        problems.push('a frame is not a chat.completion.chunk');
      if (chunks[0]?.choices?.[0]?.delta?.role !== 'assistant') problems.push('first chunk has no assistant role');
      const content = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
      const usage = chunks.find((c) => c.usage)?.usage;
      if (!content) problems.push('no content');
      else if (exact && content !== STREAM_TEXT) problems.push('content differs from the upstream stream');
      if (!usage) problems.push('no usage chunk although include_usage was asked');
      else if (exact && usage.total_tokens !== USAGE_STREAM.total_tokens)
        problems.push(`usage ${JSON.stringify(usage)}`);
      if (exact && frames.length !== STREAM_DATA_FRAMES)
        problems.push(`${frames.length} data frames, expected ${STREAM_DATA_FRAMES}`);
      if (problems.length === 0) {
        return {
          target,
          kind,
          ok: true,
          status,
          detail: `${frames.length} data frames, ${content.length} chars, usage ${usage!.total_tokens} tokens`,
        };
      }
    }
    if (problems.length === 0)
      return { target, kind, ok: true, status, detail: `${text.length} bytes, chat.completion with usage` };
    return { target, kind, ok: false, status, detail: problems.join('; ') };
  } catch (err) {
    return { target, kind, ok: false, status, detail: `request failed: ${(err as Error).message}` };
  }
}
