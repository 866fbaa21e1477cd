// What the benchmark sends and what the canned upstream answers: shared by the mock, the
// correctness checks and the load generators so that they cannot drift apart.

const USER_TEXT = 'Explain what an LLM gateway does and why teams put one in front of model providers.';
/** Prose appended to the user message to make a body of a given size (plain ASCII, no escapes). */
const FILLER =
  ' Teams route every model call through one gateway so that keys, budgets, retries and logs live in one place.';

/**
 * The 330-byte chat request of the research harness (system + user message, max_tokens 64).
 * With `bytes`, the user message's content is padded with prose so that the whole body is
 * exactly that many bytes (the body-size rows: 1 KB, 32 KB, 256 KB).
 */
export function chatBody(stream: boolean, model = 'gpt-4o-mini', bytes?: number): string {
  const build = (user: string): string =>
    `{"model":"${model}","messages":[` +
    '{"role":"system","content":"You are a concise assistant. Answer in two sentences."},' +
    `{"role":"user","content":"${user}"}` +
    '],"temperature":0.2,"max_tokens":64' +
    (stream ? ',"stream":true,"stream_options":{"include_usage":true}' : '') +
    '}';
  const base = build(USER_TEXT);
  if (bytes === undefined || bytes <= base.length) return base;
  const pad = bytes - base.length;
  const filler = FILLER.repeat(Math.ceil(pad / FILLER.length)).slice(0, pad);
  return build(USER_TEXT + filler);
}

/** What every target is sent: the floor and the upstream ignore the key, Tollgate requires it. */
export function requestHeaders(key: string): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${key}` };
}

export const CHAT_PATH = '/v1/chat/completions';

/**
 * A path prefix the canned upstream answers with the long stream (LONG_STREAM_DATA_FRAMES data
 * frames): the floor and direct are called at `<origin>/long/v1/chat/completions` (the floor
 * forwards the path as it is), Tollgate's alias `gpt-4o-mini-long` has `<origin>/long/v1` as its
 * provider's base URL.
 */
export const LONG_PREFIX = '/long';
export const LONG_MODEL = 'gpt-4o-mini-long';

/** The non-stream answer's message content. */
export const COMPLETION_TEXT =
  'Sure! Here is a short answer to your question. A gateway sits between your ' +
  'application and the model provider, adding retries, fallbacks, caching and ' +
  'accounting without changing the OpenAI-compatible interface your code already uses.';

/** The stream's content deltas (21 frames); joined they are STREAM_TEXT. */
export const STREAM_WORDS = [
  'Sure', '!', ' Here', ' is', ' a', ' short', ' answer', ':', ' a', ' gateway', ' sits',
  ' between', ' your', ' app', ' and', ' the', ' provider', ',', ' adding', ' retries', '.',
]; // prettier-ignore
export const STREAM_TEXT = STREAM_WORDS.join('');

/** data: frames per stream: role + 21 content + finish + usage + [DONE]. */
export const STREAM_DATA_FRAMES = STREAM_WORDS.length + 4;

/** The long stream: the same frames, its content deltas repeated to 496 (500 data frames in all). */
export const LONG_STREAM_WORDS = Array.from({ length: 496 }, (_, i) => STREAM_WORDS[i % STREAM_WORDS.length]!);
export const LONG_STREAM_TEXT = LONG_STREAM_WORDS.join('');
export const LONG_STREAM_DATA_FRAMES = LONG_STREAM_WORDS.length + 4;

export const USAGE_JSON = { prompt_tokens: 42, completion_tokens: 48, total_tokens: 90 };
export const USAGE_STREAM = { prompt_tokens: 42, completion_tokens: 21, total_tokens: 63 };
export const LONG_USAGE_STREAM = { prompt_tokens: 42, completion_tokens: 496, total_tokens: 538 };
