import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../core/secret.js';
import { mapUpstreamHttpError } from './map-upstream-error.js';
import { providerSecrets, secretRedactor } from './redact-secrets.js';

const base62 = (n: number, seed = 7): string => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < n; i++) out += chars[(seed * (i + 13) * 31 + i * i) % 62];
  return out;
};

const KEYS = {
  openaiProject: `sk-proj-${base62(48)}T3BlbkFJ${base62(40, 3)}`,
  openaiLegacy: `sk-${base62(48, 5)}`,
  openaiMasked: 'sk-proj-Ab12************************************************************xY9z',
  anthropic: `sk-ant-api03-${base62(86, 11)}-${base62(6, 2)}AA`,
  tollgate: `tg-${base62(43, 13)}`,
  jwt: `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${base62(40, 17)}.${base62(43, 19)}`,
  aws: 'AKIAIOSFODNN7EXAMPLE',
  google: `AIza${base62(35, 23)}`,
};

describe('secretRedactor: one function for every upstream text', () => {
  const redact = secretRedactor(['vllm-local-token-0042', 'abc']);

  it('redacts each real-looking credential shape, wherever it stands in the text', () => {
    for (const [name, key] of Object.entries(KEYS)) {
      if (name === 'jwt') continue;
      const text = `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com.`;
      const out = redact(text);
      assert.equal(
        out,
        'Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com.',
        name,
      );
    }
    assert.equal(redact(`header was "Authorization: Bearer ${KEYS.jwt}"`), 'header was "Authorization: [redacted]"');
    assert.equal(
      redact(`{"key":"${KEYS.anthropic}","again":"${KEYS.anthropic}"}`),
      '{"key":"[redacted]","again":"[redacted]"}',
    );
  });

  it('redacts the configured secrets themselves, whatever their shape; too-short ones are left alone', () => {
    assert.equal(redact('token vllm-local-token-0042 is not valid'), 'token [redacted] is not valid');
    assert.equal(redact('abc is not a key'), 'abc is not a key');
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      "'max_tokens' must be at most 4096 for model gpt-4o-mini",
      'risk-based desk-top task-sk-free Bearer',
      'This model’s maximum context length is 128000 tokens.',
      'tg-short and sk-1234',
    ]) {
      assert.equal(redact(text), text);
    }
  });

  it('providerSecrets: the api key and credential-like header values', () => {
    const secrets = providerSecrets({
      apiKey: new Secret('k-123456', 'inline'),
      headers: { 'api-key': 'azure-0123456789abcdef', authorization: 'Bearer zzz-secret-value', 'x-title': 'my app' },
    });
    assert.deepEqual(secrets.sort(), [
      'Bearer zzz-secret-value',
      'azure-0123456789abcdef',
      'azure-0123456789abcdef',
      'k-123456',
      'zzz-secret-value',
    ]);
  });
});

describe('mapUpstreamHttpError: what the client reads', () => {
  const key = 'local-server-key-98765';
  const redact = secretRedactor([key]);
  const body = (message: string) => JSON.stringify({ error: { message, type: 'x', code: null } });

  it('401/403 and 5xx: a fixed message naming the provider and status; the redacted text is for the logs', () => {
    for (const status of [401, 403, 500, 503]) {
      const err = mapUpstreamHttpError('up', status, body(`Incorrect API key provided: ${key}`), {}, { redact });
      assert.ok(!err.message.includes(key) && !err.message.includes('Incorrect'), err.message);
      assert.match(err.message, new RegExp(`^up: upstream answered ${status}`));
      assert.equal(err.upstreamMessage, 'Incorrect API key provided: [redacted]');
    }
  });

  it("the caller's 4xx keep the upstream's message, credentials redacted", () => {
    const err = mapUpstreamHttpError(
      'up',
      400,
      body(`Invalid 'temperature' (sent with key ${key}, ${KEYS.openaiLegacy})`),
      {},
      { redact },
    );
    assert.equal(
      err.message,
      "up: upstream answered 400: Invalid 'temperature' (sent with key [redacted], [redacted])",
    );
    const limited = mapUpstreamHttpError('up', 429, body(`Rate limit reached for ${KEYS.openaiProject}`), {
      'retry-after': '2',
    });
    assert.equal(limited.message, 'up: upstream answered 429: Rate limit reached for [redacted]');
  });
});
