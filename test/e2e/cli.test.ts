import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { CLI, REPO_ROOT, childEnv, freePort, startProcess, waitForHttp } from '../helpers/process.js';

const run = promisify(execFile);

/** Runs the CLI to completion; never throws, returns the exit code and output. */
async function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env,
      cwd: cwd ?? REPO_ROOT,
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The curl commands of the README's quick start, joined across line continuations. */
function readmeCurls(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) =>
    m[1]!.replace(/\\\n\s*/g, ' ').replace(/\n\s+(?=[^\n]*')/g, ' '),
  );
  return blocks.flatMap((b) => b.split('\n')).filter((line) => line.trim().startsWith('curl '));
}

describe('the tollgate command', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("a newcomer's path: start with no config and no key, then the README's curl commands work on the mock", async () => {
    const cwd = tempDir();
    const port = await freePort();
    // What `npm start` runs (`tollgate serve`; here from the sources), from an empty folder so the embedded SQLite file lands there.
    const gateway = startProcess(process.execPath, [CLI, 'serve'], { cwd, env: childEnv({ PORT: String(port) }) });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, gateway);
      const curls = readmeCurls();
      assert.ok(curls.length >= 2, 'the README shows curl commands');
      const [plain, stream] = curls.map((c) => c.replace('127.0.0.1:4000', `127.0.0.1:${port}`));
      const { stdout: json } = await run('bash', ['-c', plain!]);
      const reply = JSON.parse(json) as {
        choices: { message: { content: string } }[];
        usage: { total_tokens: number };
      };
      assert.ok(reply.choices[0]!.message.content.length > 0);
      assert.ok(reply.usage.total_tokens > 0);
      const { stdout: sse } = await run('bash', ['-c', stream!]);
      assert.match(sse, /^data: \{/);
      assert.match(sse, /"usage":\{"prompt_tokens":\d+/);
      assert.match(sse, /data: \[DONE\]\n\n$/);
      assert.match(gateway.output(), /mock/i, 'the start-up log says the mock serves the aliases');
      assert.ok(existsSync(join(cwd, 'data', 'tollgate.db')), 'the embedded SQLite ledger is under ./data/');
    } finally {
      gateway.kill('SIGTERM');
      const exit = await gateway.exited;
      assert.equal(exit.code, 0, gateway.output());
    }
  });

  it('config check: a file with three mistakes exits non-zero listing all three paths', async () => {
    const dir = tempDir();
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(
      file,
      [
        'server:',
        '  port: eighty',
        '  colour: blue',
        'providers:',
        '  up: { type: mock }',
        'models:',
        '  a:',
        '    deployments: [{ provider: nowhere, model: m }]',
        '',
      ].join('\n'),
    );
    const result = await cli(['config', 'check', '--config', file], childEnv());
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /server\.port: /);
    assert.match(result.stderr, /server: .*colour|server\.colour/);
    assert.match(result.stderr, /models\.a\.deployments\.0\.provider: .*nowhere/);
  });

  it('a secret never appears in `config check --print` nor in the serve logs', async () => {
    const dir = tempDir();
    const secret = 'sk-live-DO-NOT-LEAK-4242';
    const port = await freePort();
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(
      file,
      [
        'log: { level: debug, format: json }',
        `storage: { url: "sqlite:${join(dir, 'l.db')}" }`,
        'providers:',
        '  real: { type: openai, baseUrl: "http://127.0.0.1:9/v1", apiKey: { env: UPSTREAM_KEY } }',
        'models:',
        '  m: { deployments: [{ provider: real, model: gpt-4o-mini }] }',
        '',
      ].join('\n'),
    );
    const env = childEnv({ UPSTREAM_KEY: secret, PORT: String(port) });
    const printed = await cli(['config', 'check', '--print', '--config', file], env);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /\[redacted\]/);
    assert.ok(!printed.stdout.includes(secret) && !printed.stderr.includes(secret));

    const gateway = startProcess(process.execPath, [CLI, 'serve', '--config', file], { env });
    await waitForHttp(`http://127.0.0.1:${port}/health/live`, gateway);
    // A failing upstream call logs the error path; a client Authorization header must be redacted too.
    await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}-client` },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    gateway.kill('SIGTERM');
    await gateway.exited;
    const logs = gateway.output();
    assert.match(logs, /"msg":"request"/);
    assert.ok(!logs.includes(secret), 'the secret leaked into the logs');
  });

  it('`tollgate mock` serves the OpenAI wire format on its own port', async () => {
    const port = await freePort();
    const mock = startProcess(process.execPath, [CLI, 'mock', '--port', String(port)], { env: childEnv() });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/v1/models`, mock);
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = (await res.json()) as { object: string; usage: { prompt_tokens: number } };
      assert.equal(body.object, 'chat.completion');
      assert.ok(body.usage.prompt_tokens > 0);
    } finally {
      mock.kill('SIGTERM');
      await mock.exited;
    }
  });
});
