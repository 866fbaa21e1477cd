// Correctness before measurement: one JSON and one SSE request (and one SSE request on each
// paced upstream, a 256 KB JSON request and the 500-frame stream) through every target must
// answer 200 with the expected shape. With the canned upstream the content is known exactly, so
// it is compared exactly. For Tollgate also: a call without the key is refused (401), the key's
// budget is the one budget that applies and its spend moves, and the ledger rows carry the key's
// tenant (verifyTollgateAccounting).
import { request } from 'undici';
import { sleep } from './procs.js';
import {
  CHAT_PATH,
  COMPLETION_TEXT,
  LONG_STREAM_DATA_FRAMES,
  LONG_STREAM_TEXT,
  LONG_USAGE_STREAM,
  STREAM_DATA_FRAMES,
  STREAM_TEXT,
  USAGE_JSON,
  USAGE_STREAM,
  chatBody,
  requestHeaders,
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
  /** The 500-frame stream (the url may carry the mock's path prefix). */
  long: Endpoint;
}

/** The largest body of the body-size rows: checked through every target before measuring. */
export const VERIFY_BODY_BYTES = 256 * 1024;

export interface Check {
  target: string;
  kind:
    | 'json'
    | 'sse'
    | 'sse-paced'
    | 'sse-role-paused'
    | 'sse-split-end'
    | 'json-256k'
    | 'sse-500'
    | 'auth-required'
    | 'budget'
    | 'ledger-tenant';
  ok: boolean;
  status: number;
  detail: string;
}

interface Chunk {
  object?: string;
  choices?: { delta?: { role?: string; content?: string } }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export async function verifyTarget(t: VerifyTarget, exact: boolean, key: string): Promise<Check[]> {
  const checks: Check[] = [];
  const one = (kind: Check['kind'], ep: Endpoint): Promise<Check> => check(t.name, kind, ep.url, ep.model, exact, key);
  checks.push(await one('json', t.base));
  checks.push(await one('sse', t.base));
  checks.push(await one('sse-paced', t.paced));
  checks.push(await one('sse-role-paused', t.rolePaused));
  checks.push(await one('sse-split-end', t.splitEnd));
  checks.push(await one('json-256k', t.base));
  if (exact) checks.push(await one('sse-500', t.long));
  return checks;
}

async function check(
  target: string,
  kind: Check['kind'],
  url: string,
  model: string,
  exact: boolean,
  key: string,
): Promise<Check> {
  const stream = !kind.startsWith('json');
  const long = kind === 'sse-500';
  const expected = {
    text: long ? LONG_STREAM_TEXT : STREAM_TEXT,
    frames: long ? LONG_STREAM_DATA_FRAMES : STREAM_DATA_FRAMES,
    usage: long ? LONG_USAGE_STREAM : USAGE_STREAM,
  };
  let status = 0;
  try {
    const body = chatBody(stream, model, kind === 'json-256k' ? VERIFY_BODY_BYTES : undefined);
    if (kind === 'json-256k' && Buffer.byteLength(body) !== VERIFY_BODY_BYTES)
      throw new Error(`chatBody made ${Buffer.byteLength(body)} bytes, not ${VERIFY_BODY_BYTES}`);
    const res = await request(url + CHAT_PATH, {
      method: 'POST',
      headers: requestHeaders(key),
      body,
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
      else if (exact && content !== expected.text) problems.push('content differs from the upstream stream');
      if (!usage) problems.push('no usage chunk although include_usage was asked');
      else if (exact && usage.total_tokens !== expected.usage.total_tokens)
        problems.push(`usage ${JSON.stringify(usage)}`);
      if (exact && frames.length !== expected.frames)
        problems.push(`${frames.length} data frames, expected ${expected.frames}`);
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

interface QuoteAnswer {
  budgets?: { id: string; spent_micros: number | null; reserved_micros: number | null }[];
}

/**
 * Tollgate only, after verifyTarget: the features every measured Tollgate row pays for are on.
 * A call without a key and one with a made-up key get 401; the quote route (with the key) names
 * exactly one budget, the key's, and its spend grows after a call; the ledger (the SQLite file,
 * read-only, polled until the batch is flushed) holds rows with the key's tenant and id, and no
 * anonymous ones.
 */
export async function verifyTollgateAccounting(opts: {
  url: string;
  key: string;
  keyId: string;
  tenant: string;
  budgetId: string;
  ledgerFile: string;
}): Promise<Check[]> {
  const target = 'tollgate';
  const checks: Check[] = [];
  const call = async (headers: Record<string, string>, path = CHAT_PATH) => {
    const res = await request(opts.url + path, { method: 'POST', headers, body: chatBody(false) });
    return { status: res.statusCode, text: await res.body.text() };
  };
  try {
    const none = await call({ 'content-type': 'application/json' });
    const wrong = await call(requestHeaders('tg-' + 'x'.repeat(43)));
    checks.push({
      target,
      kind: 'auth-required',
      ok: none.status === 401 && wrong.status === 401,
      status: none.status,
      detail: `without a key ${none.status}, with an unknown key ${wrong.status} (expected 401 both)`,
    });
  } catch (err) {
    checks.push({ target, kind: 'auth-required', ok: false, status: 0, detail: (err as Error).message });
  }

  const quote = async (): Promise<QuoteAnswer['budgets']> => {
    const q = await call(requestHeaders(opts.key), '/v1/tollgate/quote');
    if (q.status !== 200) throw new Error(`quote: HTTP ${q.status}: ${q.text.slice(0, 200)}`);
    return (JSON.parse(q.text) as QuoteAnswer).budgets ?? [];
  };
  try {
    const before = await quote();
    const ids = before?.map((b) => b.id) ?? [];
    const spent0 = before?.[0]?.spent_micros ?? 0;
    const answer = await call(requestHeaders(opts.key));
    let spent1 = spent0;
    for (let i = 0; i < 40 && spent1 <= spent0; i++) {
      await sleep(50);
      spent1 = (await quote())?.find((b) => b.id === opts.budgetId)?.spent_micros ?? spent0;
    }
    const ok = ids.length === 1 && ids[0] === opts.budgetId && answer.status === 200 && spent1 > spent0;
    checks.push({
      target,
      kind: 'budget',
      ok,
      status: answer.status,
      detail: `budgets that apply: ${JSON.stringify(ids)} (expected ["${opts.budgetId}"]); spent ${spent0} → ${spent1} µ$ after one call`,
    });
  } catch (err) {
    checks.push({ target, kind: 'budget', ok: false, status: 0, detail: (err as Error).message });
  }

  try {
    const { default: Database } = await import('better-sqlite3');
    let rows: { tenant: string | null; key_id: string | null; n: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const db = new Database(opts.ledgerFile, { readonly: true, fileMustExist: true });
      try {
        rows = db.prepare('select tenant, key_id, count(*) as n from requests group by tenant, key_id').all() as {
          tenant: string | null;
          key_id: string | null;
          n: number;
        }[];
      } finally {
        db.close();
      }
      if (rows.some((r) => r.tenant === opts.tenant && r.key_id === opts.keyId)) break;
      await sleep(100);
    }
    const mine = rows.filter((r) => r.tenant === opts.tenant && r.key_id === opts.keyId).reduce((a, r) => a + r.n, 0);
    const others = rows.filter((r) => !(r.tenant === opts.tenant && r.key_id === opts.keyId));
    checks.push({
      target,
      kind: 'ledger-tenant',
      ok: mine > 0 && others.length === 0,
      status: 0,
      detail: `${mine} ledger rows with tenant ${opts.tenant} and key ${opts.keyId}; other rows: ${JSON.stringify(others)}`,
    });
  } catch (err) {
    checks.push({ target, kind: 'ledger-tenant', ok: false, status: 0, detail: (err as Error).message });
  }
  return checks;
}
