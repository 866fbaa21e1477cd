import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import OpenAI from 'openai';
import pg from 'pg';
import Database from 'better-sqlite3';
import type { ConfigInput } from '../../src/config/schema.js';
import { startTestGateway } from '../helpers/gateway.js';
import { withPostgresSchema } from '../helpers/postgres.js';

interface Row {
  request_id: string;
  alias: string;
  provider: string;
  upstream_model: string;
  status: number;
  outcome: string;
  stream: number | boolean;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  ttft_ms: number | null;
}

const models: ConfigInput['models'] = { chat: { deployments: [{ provider: 'mock', model: 'mock-large' }] } };
const messages = [{ role: 'user' as const, content: 'Count the tokens of this request, please.' }];

/** Makes one plain call, one stream with usage and one 404 through the gateway; returns what the client saw. */
async function exercise(storage: ConfigInput['storage']) {
  const gw = await startTestGateway({ storage, providers: { mock: { type: 'mock' } }, models });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
  try {
    const plain = await client.chat.completions.create(
      { model: 'chat', messages },
      { headers: { 'x-request-id': 'ledger-plain' } },
    );
    const stream = await client.chat.completions.create(
      { model: 'chat', messages, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-request-id': 'ledger-stream' } },
    );
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    await client.chat.completions
      .create({ model: 'nope', messages }, { headers: { 'x-request-id': 'ledger-404' } })
      .catch(() => undefined);
    return { plain: plain.usage!, stream: usage! };
  } finally {
    await gw.close(); // flushes the ledger
  }
}

function check(rows: Row[], seen: { plain: OpenAI.CompletionUsage; stream: OpenAI.CompletionUsage }): void {
  const byId = new Map(rows.map((r) => [r.request_id, r]));
  assert.equal(rows.length, 3);
  const plain = byId.get('ledger-plain')!;
  assert.equal(plain.alias, 'chat');
  assert.equal(plain.provider, 'mock');
  assert.equal(plain.upstream_model, 'mock-large');
  assert.equal(plain.status, 200);
  assert.equal(plain.outcome, 'ok');
  assert.equal(Number(plain.stream), 0);
  assert.equal(plain.input_tokens, seen.plain.prompt_tokens);
  assert.equal(plain.output_tokens, seen.plain.completion_tokens);
  assert.ok(plain.latency_ms > 0);
  const stream = byId.get('ledger-stream')!;
  assert.equal(Number(stream.stream), 1);
  assert.equal(stream.input_tokens, seen.stream.prompt_tokens);
  assert.equal(stream.output_tokens, seen.stream.completion_tokens);
  assert.ok(stream.ttft_ms !== null && stream.ttft_ms <= stream.latency_ms);
  const missing = byId.get('ledger-404')!;
  assert.equal(missing.status, 404);
  assert.equal(missing.outcome, 'error');
  assert.equal(missing.input_tokens, 0);
}

describe('request ledger through a running gateway', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('SQLite file: one row per call with the token counts the client saw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-'));
    dirs.push(dir);
    const file = join(dir, 'ledger.db');
    const seen = await exercise({ url: `sqlite:${file}` });
    const db = new Database(file, { readonly: true });
    try {
      check(db.prepare('select * from requests').all() as Row[], seen);
    } finally {
      db.close();
    }
  });

  it('PostgreSQL (isolated schema): the same rows', (t) =>
    withPostgresSchema(t, async ({ url, schema }) => {
      const seen = await exercise({ url, schema });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const result = await client.query<Row>(`select * from "${schema}".requests`);
        check(
          result.rows.map((r) => ({ ...r, latency_ms: Number(r.latency_ms) })),
          seen,
        );
      } finally {
        await client.end();
      }
    }));
});
