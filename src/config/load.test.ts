import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigError } from './format-errors.js';
import { loadConfig, mergeConfig, overlayPath, printableConfig } from './load.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-load-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const failure = async (promise: Promise<unknown>): Promise<ConfigError> => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  return err;
};

const inDir = async <T>(cwd: string, run: () => Promise<T>): Promise<T> => {
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    return await run();
  } finally {
    process.chdir(previous);
  }
};

const ONE_MODEL = `
providers:
  up: { type: mock }
models:
  chat: { deployments: [{ provider: up, model: gpt-4o-mini }] }
`;

describe('loadConfig: finding the files', () => {
  it('uses the embedded default when there is no file at all', async () => {
    const loaded = await inDir(dir, () => loadConfig({ env: {} }));
    assert.deepEqual(loaded.source, { files: [], embedded: true });
    assert.equal(loaded.config.server.port, 4000);
    assert.match(loaded.notes.join('\n'), /no config file .*embedded default/);
  });

  it('reads ./tollgate.yaml, then TOLLGATE_CONFIG, then the explicit path', async () => {
    write('tollgate.yaml', `server: { port: 1001 }\n${ONE_MODEL}`);
    const other = write('other.yaml', `server: { port: 1002 }\n${ONE_MODEL}`);
    const third = write('third.yaml', `server: { port: 1003 }\n${ONE_MODEL}`);
    const ports = await inDir(dir, async () => [
      (await loadConfig({ env: {} })).config.server.port,
      (await loadConfig({ env: { TOLLGATE_CONFIG: other } })).config.server.port,
      (await loadConfig({ env: { TOLLGATE_CONFIG: other }, path: third })).config.server.port,
    ]);
    assert.deepEqual(ports, [1001, 1002, 1003]);
  });

  it('fails when a named file does not exist', async () => {
    const err = await failure(loadConfig({ env: { TOLLGATE_CONFIG: join(dir, 'nope.yaml') } }));
    assert.match(err.message, /nope\.yaml \(from TOLLGATE_CONFIG\) does not exist/);
  });

  it('merges the environment overlay: maps merge, arrays replace, null deletes', async () => {
    const base = write(
      'tollgate.yaml',
      `server: { port: 1000, host: 0.0.0.0 }
storage: { schema: base_schema }
providers:
  up: { type: mock, headers: { x-a: "1", x-b: "2" } }
models:
  chat: { description: base, deployments: [{ provider: up, model: a }, { provider: up, model: b }] }
`,
    );
    write(
      'tollgate.staging.yaml',
      `server: { port: 2000 }\nstorage: { schema: null }\nproviders: { up: { headers: { x-b: "3" } } }\nmodels: { chat: { deployments: [{ provider: up, model: c }] } }\n`,
    );
    const { config, source } = await loadConfig({ path: base, env: { TOLLGATE_ENV: 'staging' } });
    assert.deepEqual(source.files, [base, join(dir, 'tollgate.staging.yaml')]);
    assert.equal(config.server.port, 2000);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.storage.schema, 'public', 'null in the overlay removed the base value');
    assert.deepEqual(config.providers.up?.headers, { 'x-a': '1', 'x-b': '3' });
    assert.deepEqual(
      config.models.chat?.deployments.map((d) => d.model),
      ['c'],
    );
    assert.equal(config.models.chat?.description, 'base');
  });

  it('notes a missing overlay instead of failing; envName beats TOLLGATE_ENV', async () => {
    const base = write('tollgate.yaml', ONE_MODEL);
    const loaded = await loadConfig({ path: base, env: { TOLLGATE_ENV: 'prod' }, envName: 'qa' });
    assert.deepEqual(loaded.source.files, [base]);
    assert.match(loaded.notes.join('\n'), /environment "qa": no overlay file .*tollgate\.qa\.yaml/);
  });

  it('names the overlay after the base file', () => {
    assert.equal(overlayPath('/etc/tollgate/gateway.yml', 'prod'), '/etc/tollgate/gateway.prod.yml');
  });
});

describe('loadConfig: interpolation and environment variables', () => {
  it('expands ${VAR} everywhere and types a whole-string number only where a number is wanted', async () => {
    const path = write(
      'tollgate.yaml',
      `server: { port: "\${PORT_NUMBER}", host: "\${BIND:-127.0.0.2}" }
ledger:
  enabled: \${LEDGER}
providers:
  up: { type: openai, apiKey: "\${DIGITS}", baseUrl: "https://\${UPSTREAM}/v1", headers: { x-literal: "$\${HOME}" } }
models:
  chat: { deployments: [{ provider: up, model: gpt-4o-mini }] }
`,
    );
    const env = { PORT_NUMBER: '8123', LEDGER: 'false', DIGITS: '12345', UPSTREAM: 'llm.internal' };
    const { config } = await loadConfig({ path, env });
    assert.equal(config.server.port, 8123);
    assert.equal(config.server.host, '127.0.0.2');
    assert.equal(config.ledger.enabled, false);
    const up = config.providers.up;
    assert.ok(up?.type === 'openai');
    assert.equal(up.apiKey?.reveal(), '12345', 'an all-digit key stays a string');
    assert.equal(up.baseUrl, 'https://llm.internal/v1');
    assert.equal(up.headers['x-literal'], '${HOME}');
  });

  it('applies PORT, HOST and TOLLGATE_LOG_LEVEL over the file, and overrides over them', async () => {
    const path = write('tollgate.yaml', `server: { port: 1000, host: a }\nlog: { level: info }\n${ONE_MODEL}`);
    const env = { PORT: '3000', HOST: 'b', TOLLGATE_LOG_LEVEL: 'debug' };
    const fromEnv = await loadConfig({ path, env });
    assert.deepEqual(
      [fromEnv.config.server.port, fromEnv.config.server.host, fromEnv.config.log.level],
      [3000, 'b', 'debug'],
    );
    const flags = await loadConfig({ path, env, overrides: { server: { port: 4444, host: 'c' } } });
    assert.deepEqual([flags.config.server.port, flags.config.server.host], [4444, 'c']);
  });

  it('says which variable a bad value came from', async () => {
    const err = await failure(loadConfig({ env: { PORT: 'eighty', TOLLGATE_LOG_LEVEL: 'loud' } }));
    assert.match(err.message, /server\.port: environment variable PORT is not a port number/);
    assert.match(err.message, /log\.level: .*\(from TOLLGATE_LOG_LEVEL\)/);
  });
});

describe('loadConfig: validation', () => {
  it('lists every mistake at once, the unknown provider included', async () => {
    const path = write(
      'tollgate.yaml',
      `server: { port: "eighty" }
ledger: { enabld: true }
providers:
  up: { type: mock }
models:
  gpt-4o: { deployments: [{ provider: upp, model: gpt-4o }] }
`,
    );
    const err = await failure(loadConfig({ path, env: {} }));
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      'ledger.enabld',
      'models.gpt-4o.deployments.0.provider',
      'server.port',
    ]);
    const lines = err.message.split('\n');
    assert.ok(lines.some((l) => l.trim().startsWith('server.port: ')));
    assert.ok(lines.some((l) => l.trim() === 'ledger.enabld: unknown setting'));
    assert.ok(
      lines.some((l) => l.includes('models.gpt-4o.deployments.0.provider: unknown provider "upp" (configured: up)')),
    );
  });

  it('reports interpolation and secret failures together with schema errors', async () => {
    const path = write(
      'tollgate.yaml',
      `server: { host: "\${NO_SUCH_HOST}", port: -1 }
providers:
  up: { type: openai, apiKey: { env: NO_SUCH_KEY } }
  down: { type: openai, apiKey: { file: ./missing-key } }
models:
  chat: { deployments: [{ provider: up, model: gpt-4o-mini }] }
`,
    );
    const err = await failure(loadConfig({ path, env: {} }));
    assert.deepEqual(err.issues.map((i) => `${i.path}: ${i.message}`).sort(), [
      `providers.down.apiKey: cannot read secret file ${join(dir, 'missing-key')} (ENOENT)`,
      'providers.up.apiKey: environment variable NO_SUCH_KEY is not set',
      'server.host: environment variable NO_SUCH_HOST is not set',
      'server.port: too small: expected number to be >=0',
    ]);
  });

  it('reports YAML syntax errors with the file and position', async () => {
    const path = write('tollgate.yaml', 'server:\n  port: 1\n  port: 2\n');
    const err = await failure(loadConfig({ path, env: {} }));
    assert.match(err.message, /tollgate\.yaml: Map keys must be unique at line 3/);
  });

  it('freezes the result deeply', async () => {
    const { config } = await loadConfig({ env: {}, path: write('tollgate.yaml', ONE_MODEL) });
    assert.ok(
      Object.isFrozen(config) && Object.isFrozen(config.server) && Object.isFrozen(config.models.chat?.deployments),
    );
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
  });
});

describe('loadConfig: the embedded default', () => {
  it('serves the default aliases from the mock without OPENAI_API_KEY', async () => {
    const { config, notes, source } = await loadConfig({
      path: write('tollgate.yaml', 'server: { port: 9 }\n'),
      env: {},
    });
    assert.equal(source.embedded, true);
    assert.deepEqual(Object.keys(config.providers), ['mock']);
    assert.deepEqual(Object.keys(config.models), [
      'gpt-4o-mini',
      'gpt-4o',
      'gpt-4.1-mini',
      'gpt-4.1',
      'gpt-5-mini',
      'text-embedding-3-small',
    ]);
    assert.equal(config.models['text-embedding-3-small']?.type, 'embeddings');
    assert.match(
      notes.join('\n'),
      /OPENAI_API_KEY not set: aliases gpt-4o-mini, .* served by the built-in mock provider/,
    );
  });

  it('serves them from OpenAI when OPENAI_API_KEY is set, honouring OPENAI_BASE_URL', async () => {
    const env = { OPENAI_API_KEY: 'sk-embedded-5e1', OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1' };
    const { config } = await inDir(dir, () => loadConfig({ env }));
    const openai = config.providers.openai;
    assert.ok(openai?.type === 'openai');
    assert.equal(openai.baseUrl, 'http://127.0.0.1:9999/v1');
    assert.equal(openai.apiKey?.reveal(), 'sk-embedded-5e1');
    assert.deepEqual(config.models['gpt-4.1']?.deployments[0]?.provider, 'openai');
  });
});

describe('secrets never show', () => {
  it('in printableConfig, JSON, util.inspect or a ConfigError', async () => {
    const keyFile = write('openai-key', 'sk-from-file-a81c\n');
    const path = write(
      'tollgate.yaml',
      `storage: { url: "postgres://db/x", password: { env: DB_PASSWORD } }
providers:
  up: { type: openai, apiKey: { file: ${keyFile} } }
models:
  chat: { deployments: [{ provider: up, model: gpt-4o-mini }] }
`,
    );
    const env = { DB_PASSWORD: 'pw-from-env-31d' };
    const { config } = await loadConfig({ path, env });
    const up = config.providers.up;
    assert.equal(up?.type === 'openai' && up.apiKey?.reveal(), 'sk-from-file-a81c', 'trailing newline trimmed');
    const printed = printableConfig(config);
    assert.match(printed, /apiKey: "\[redacted\] \(file:.*openai-key\)"/);
    for (const shown of [printed, JSON.stringify(config), inspect(config, { depth: 20 })]) {
      assert.ok(!shown.includes('sk-from-file-a81c') && !shown.includes('pw-from-env-31d'));
    }
    const broken = write(
      'broken.yaml',
      `server: { port: "\${DB_PASSWORD}" }\nstorage: { password: { env: DB_PASSWORD }, url: mysql:x }\n`,
    );
    const err = await failure(loadConfig({ path: broken, env }));
    assert.ok(!err.message.includes('pw-from-env-31d') && !inspect(err).includes('pw-from-env-31d'));
  });
});

describe('mergeConfig', () => {
  it('replaces a secret reference whole rather than merging two into a hybrid', () => {
    assert.deepEqual(mergeConfig({ apiKey: { file: '/a' }, x: null }, { apiKey: { env: 'B' } }), {
      apiKey: { env: 'B' },
    });
  });
});
