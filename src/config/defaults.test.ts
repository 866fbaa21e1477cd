import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMBEDDED_ALIASES, embeddedDefault, envOverrides } from './defaults.js';
import { Secret } from '../core/secret.js';

describe('embeddedDefault', () => {
  it('uses the mock provider without OPENAI_API_KEY (an empty one counts as unset)', () => {
    const { providers, models, note } = embeddedDefault({ OPENAI_API_KEY: '' });
    assert.deepEqual(providers, { mock: { type: 'mock' } });
    assert.equal(Object.keys(models).length, EMBEDDED_ALIASES.length);
    assert.deepEqual(models['gpt-4o'], { type: 'chat', deployments: [{ provider: 'mock', model: 'gpt-4o' }] });
    assert.equal(
      note,
      'OPENAI_API_KEY not set: aliases gpt-4o-mini, gpt-4o, gpt-4.1-mini, gpt-4.1, gpt-5-mini, text-embedding-3-small served by the built-in mock provider',
    );
  });

  it('uses OpenAI with the key as a Secret when OPENAI_API_KEY is set', () => {
    const { providers, models, note } = embeddedDefault({ OPENAI_API_KEY: 'sk-x' });
    const apiKey = providers.openai?.apiKey;
    assert.ok(apiKey instanceof Secret);
    assert.equal(apiKey.source, 'env:OPENAI_API_KEY');
    assert.equal(providers.openai?.baseUrl, undefined, 'the schema default applies');
    assert.deepEqual(models['text-embedding-3-small'], {
      type: 'embeddings',
      deployments: [{ provider: 'openai', model: 'text-embedding-3-small' }],
    });
    assert.match(note, /^OPENAI_API_KEY set: .* served by OpenAI at https:\/\/api\.openai\.com\/v1$/);
  });
});

describe('envOverrides', () => {
  it('reads PORT, HOST and TOLLGATE_LOG_LEVEL unless the caller set them explicitly', () => {
    const env = { PORT: '8080', HOST: '0.0.0.0', TOLLGATE_LOG_LEVEL: 'debug' };
    assert.deepEqual(envOverrides(env).values, { server: { port: 8080, host: '0.0.0.0' }, log: { level: 'debug' } });
    assert.deepEqual(envOverrides(env, { port: 1, host: 'h', logLevel: 'info' }).values, {});
  });

  it('reports a PORT that is not a number', () => {
    assert.deepEqual(envOverrides({ PORT: '80a' }).issues, [
      { path: 'server.port', message: 'environment variable PORT is not a port number ("80a")' },
    ]);
  });
});
