// What the benchmark sends and what the canned upstream answers: shared by the mock, the
// correctness checks and the load generators so that they cannot drift apart.

/** The 330-byte chat request of the research harness (system + user message, max_tokens 64). */
export function chatBody(stream: boolean, model = 'gpt-4o-mini'): string {
  return (
    `{"model":"${model}","messages":[` +
    '{"role":"system","content":"You are a concise assistant. Answer in two sentences."},' +
    '{"role":"user","content":"Explain what an LLM gateway does and why teams put one in front of model providers."}' +
    '],"temperature":0.2,"max_tokens":64' +
    (stream ? ',"stream":true,"stream_options":{"include_usage":true}' : '') +
    '}'
  );
}

export const REQUEST_HEADERS = {
  'content-type': 'application/json',
  authorization: 'Bearer sk-bench-not-a-real-key',
} as const;

export const CHAT_PATH = '/v1/chat/completions';

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

export const USAGE_JSON = { prompt_tokens: 42, completion_tokens: 48, total_tokens: 90 };
export const USAGE_STREAM = { prompt_tokens: 42, completion_tokens: 21, total_tokens: 63 };
