import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { childEnv, CLI } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-prices-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], yaml: string) {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const result = spawnSync(process.execPath, [CLI, ...args, '--config', file], {
    env: childEnv({ PORT: '0' }),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stderr: result.stderr };
}

const unpriced = [
  `storage: { url: "sqlite:${join(dir, 'l.db')}" }`,
  'providers:',
  '  vllm: { type: openai, baseUrl: "http://127.0.0.1:9/v1" }',
  'models:',
  '  local: { deployments: [{ provider: vllm, model: llama-3.3-70b-instruct }] }',
  '',
].join('\n');

void describe('unknown prices', () => {
  void it('serve refuses to start, naming the model and how to price it', () => {
    const { code, stderr } = run(['serve'], unpriced);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /models\.local\.deployments\.0: no price for model "llama-3\.3-70b-instruct" \(provider vllm, type openai\)/,
    );
    assert.match(
      stderr,
      /price: \{ inputPerMTok, outputPerMTok, maxOutputTokens \} or priceAs: <provider>\/<model> or free: true/,
    );
  });

  void it('config check finds it too; a price, priceAs or free: true fixes it', () => {
    assert.equal(run(['config', 'check'], unpriced).code, 2);
    for (const fix of [
      'price: { inputPerMTok: 0.5, outputPerMTok: 1.5 }',
      'priceAs: openai/gpt-4o-mini',
      'free: true',
    ]) {
      const yaml = unpriced.replace('model: llama-3.3-70b-instruct }', `model: llama-3.3-70b-instruct, ${fix} }`);
      const { code, stderr } = run(['config', 'check'], yaml);
      assert.equal(code, 0, `${fix}: ${stderr}`);
    }
    const viaPrices = `${unpriced}prices:\n  vllm:\n    llama-3.3-70b-instruct: { inputPerMTok: 0.2, outputPerMTok: 0.6 }\n`;
    assert.equal(run(['config', 'check'], viaPrices).code, 0);
  });

  void it('a priceAs naming nothing is refused as well', () => {
    const yaml = unpriced.replace(
      'model: llama-3.3-70b-instruct }',
      'model: llama-3.3-70b-instruct, priceAs: openai/gpt-9 }',
    );
    const { code, stderr } = run(['config', 'check'], yaml);
    assert.equal(code, 2);
    assert.match(stderr, /priceAs "openai\/gpt-9" names no price/);
  });
});
