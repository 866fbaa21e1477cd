// Canned OpenAI upstream for the benchmark (plain node:http, no dependencies). It answers from
// pre-rendered buffers so that the upstream costs as little as possible and the measurement
// isolates the gateway. Same wire semantics as the team's peer harness
// (shared/bench/peer/mock-upstream.cjs):
//
//   POST /v1/chat/completions                 -> fixed 824-byte chat.completion JSON with usage
//   POST ... with "stream": true              -> 25 SSE frames (role, 21 content, finish, usage)
//                                                + data: [DONE], one write per frame, no pause
//   POST /long/v1/chat/completions, streaming  -> the long stream: 500 SSE frames (role, 496
//                                                content, finish, usage, [DONE]), same writes
//                                                (the stream-length row; any listener)
//   anything else                             -> 404 JSON error
//
// Listeners (127.0.0.1 only):
//   MOCK_PORT              zero-delay upstream (throughput matrix, probe)
//   MOCK_PACED_PORT        same answers, but a stream sends its role chunk and first content
//                          chunk, waits MOCK_GAP_MS (20), then the rest: a gateway that holds the
//                          first token back shows up as added time to first token of about the gap
//   MOCK_ROLE_PAUSED_PORT  the pause comes right after the role-only opening chunk instead (as
//                          when a model thinks before its first token): shows whether a gateway
//                          forwards the opening chunk at once or waits for the first content
//   MOCK_SPLIT_END_PORT    no pause, but the end of the chunked body (its terminator) follows
//                          `data: [DONE]` MOCK_END_DELAY_MS (2) later, as it often does from a real
//                          upstream over the internet: a client that stops reading at [DONE] and
//                          destroys the body cannot reuse the connection
//   MOCK_SLOW_PORT         every answer (JSON or stream) starts MOCK_SLOW_MS (20) late, like an
//                          upstream that takes its time: the overload row's upstream, so that a
//                          gateway's calls in flight stay in flight long enough to hit its cap
//   (0 disables a listener)
// GET /__bench/stats answers {connections, requests, byPort} counted since start:
// the bench reads it around every run to see how many upstream connections a gateway opened
// (a keep-alive pool opens at most one per concurrent request; a gateway that cannot reuse its
// upstream connections opens about one per request).
// Prints `listening <port>` per listener on stdout.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  COMPLETION_TEXT,
  LONG_PREFIX,
  LONG_STREAM_WORDS,
  LONG_USAGE_STREAM,
  STREAM_WORDS,
  USAGE_JSON,
  USAGE_STREAM,
} from '../lib/wire.js';

const HOST = '127.0.0.1';
const PORT = Number(process.env.MOCK_PORT ?? 9100);
const PACED_PORT = Number(process.env.MOCK_PACED_PORT ?? 0);
const ROLE_PAUSED_PORT = Number(process.env.MOCK_ROLE_PAUSED_PORT ?? 0);
const SPLIT_END_PORT = Number(process.env.MOCK_SPLIT_END_PORT ?? 0);
const SLOW_PORT = Number(process.env.MOCK_SLOW_PORT ?? 0);
const SLOW_MS = Number(process.env.MOCK_SLOW_MS ?? 20);
const END_DELAY_MS = Number(process.env.MOCK_END_DELAY_MS ?? 2);
const GAP_MS = Number(process.env.MOCK_GAP_MS ?? 20);
const CREATED = 1735689600;

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench000000000000000000000001',
    object: 'chat.completion',
    created: CREATED,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: COMPLETION_TEXT, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      ...USAGE_JSON,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_bench000001',
  }),
);

function chunk(delta: unknown, finish: string | null, usage?: unknown): string {
  const o: Record<string, unknown> = {
    id: 'chatcmpl-bench000000000000000000000002',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-4o-mini-2024-07-18',
    service_tier: 'default',
    system_fingerprint: 'fp_bench000001',
    choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
  if (usage !== undefined) o.usage = usage;
  return 'data: ' + JSON.stringify(o) + '\n\n';
}

const frames = (words: string[], usage: unknown): Buffer[] =>
  [chunk({ role: 'assistant', content: '', refusal: null }, null)]
    .concat(words.map((w) => chunk({ content: w }, null)))
    .concat([chunk({}, 'stop'), chunk(null, null, usage), 'data: [DONE]\n\n'])
    .map((s) => Buffer.from(s));
const sseFrames = frames(STREAM_WORDS, USAGE_STREAM);
const longFrames = frames(LONG_STREAM_WORDS, LONG_USAGE_STREAM);

const notFound = Buffer.from(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));

type Counters = { connections: number; requests: number };
const stats: Counters & { byPort: Record<number, Counters> } = { connections: 0, requests: 0, byPort: {} };

interface Pacing {
  /** > 0: send the first `before` frames, pause `gapMs`, send the rest. */
  gapMs: number;
  before: number;
  /** > 0: end the response (the chunked terminator) this long after the last frame, in its own packet. */
  endDelayMs: number;
  /** > 0: start the answer this long after the request ended. */
  replyDelayMs?: number;
}

function handler(port: number, pacing: Pacing) {
  const mine = (stats.byPort[port] = { connections: 0, requests: 0 });
  const { gapMs, before, endDelayMs, replyDelayMs = 0 } = pacing;
  const finish = (res: ServerResponse): void => {
    if (endDelayMs > 0) setTimeout(() => res.end(), endDelayMs);
    else res.end();
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url === '/__bench/stats') {
      const b = JSON.stringify(stats);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
      res.end(b);
      return;
    }
    stats.requests++;
    mine.requests++;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (replyDelayMs > 0) setTimeout(answer, replyDelayMs);
      else answer();
    });
    const answer = (): void => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': notFound.length });
        res.end(notFound);
        return;
      }
      let stream = false;
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (body.length > 4096) {
        // The body-size rows (up to 256 KB): a parse would cost the mock's core more than the
        // gateway's work; the bench's bodies (and a gateway's re-serialisation) have no spaces.
        stream = body.includes('"stream":true');
      } else {
        try {
          stream = (JSON.parse(body.toString('utf8')) as { stream?: unknown }).stream === true;
        } catch {
          // treat as non-stream
        }
      }
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length });
        res.end(completion);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (req.url.startsWith(LONG_PREFIX + '/')) {
        for (const f of longFrames) res.write(f);
        finish(res);
        return;
      }
      if (gapMs <= 0) {
        for (const f of sseFrames) res.write(f); // zero inter-chunk delay, one write per chunk
        finish(res);
        return;
      }
      for (let i = 0; i < before; i++) res.write(sseFrames[i]);
      setTimeout(() => {
        for (let i = before; i < sseFrames.length; i++) res.write(sseFrames[i]);
        finish(res);
      }, gapMs);
    };
  };
}

function listen(port: number, pacing: Pacing): void {
  const s = createServer({ keepAliveTimeout: 65_000 }, handler(port, pacing));
  s.headersTimeout = 66_000;
  s.on('connection', () => {
    stats.connections++;
    stats.byPort[port]!.connections++;
  });
  s.listen(port, HOST, () => console.log(`listening ${port} ${JSON.stringify(pacing)}`));
}

listen(PORT, { gapMs: 0, before: 0, endDelayMs: 0 });
if (PACED_PORT) listen(PACED_PORT, { gapMs: GAP_MS, before: 2, endDelayMs: 0 });
if (ROLE_PAUSED_PORT) listen(ROLE_PAUSED_PORT, { gapMs: GAP_MS, before: 1, endDelayMs: 0 });
if (SPLIT_END_PORT) listen(SPLIT_END_PORT, { gapMs: 0, before: 0, endDelayMs: END_DELAY_MS });
if (SLOW_PORT) listen(SLOW_PORT, { gapMs: 0, before: 0, endDelayMs: 0, replyDelayMs: SLOW_MS });
