import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { windowOf } from '../../src/budgets/windows.js';
import { childEnv, CLI, freePort, startProcess, waitForHttp, type RunningProcess } from '../helpers/process.js';
import { withRedis } from '../helpers/redis.js';

// Issue 7, item 4: `kill -9` under load must lose no answered call's ledger row, leave the budget
// counters equal to the ledger, and strand no reservation once the gateway is back.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const BUDGET = 'all-monthly';

function writeConfig(dir: string, port: number, redis: { url: string; prefix: string }): string {
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(
    file,
    [
      `server: { port: ${port} }`,
      'log: { level: warn, format: json }',
      `storage: { url: "sqlite:${join(dir, 'ledger.db')}" }`,
      // A long flush interval: without the spool, every row answered since the last write is lost.
      'ledger: { flushIntervalMs: 60000, batchSize: 100000 }',
      `redis: { url: "${redis.url}", keyPrefix: "${redis.prefix}" }`,
      'providers: { mock: { type: mock, scenario: { latencyMs: 20, chunkDelayMs: 10 } } }',
      'models: { gpt-4o-mini: { deployments: [{ provider: mock, model: gpt-4o-mini }] } }',
      `budgets: { store: redis, limits: [{ id: ${BUDGET}, window: monthly, limitUsd: 1000 }] }`,
      '',
    ].join('\n'),
  );
  return file;
}

interface Row {
  request_id: string;
  call_id: string | null;
  cost_micros: number | null;
}

const readLedger = (dir: string): Row[] => {
  const db = new Database(join(dir, 'ledger.db'), { readonly: true });
  try {
    return db.prepare('select request_id, call_id, cost_micros from requests').all() as Row[];
  } finally {
    db.close();
  }
};

/** One call, JSON or streamed; resolves with whether the client got the whole answer. */
async function call(base: string, id: string, stream: boolean): Promise<boolean> {
  try {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `crash test ${id}` }],
        max_tokens: 24,
        stream,
      }),
    });
    const text = await res.text();
    if (res.status !== 200) return false;
    return stream ? text.trimEnd().endsWith('data: [DONE]') : (JSON.parse(text) as { id?: string }).id !== undefined;
  } catch {
    return false; // the process died under it
  }
}

void describe('kill -9 under load, then restart (SQLite ledger, Redis budget)', () => {
  void it('every answered call has its row, counters equal the ledger, no reservation stranded', (t) =>
    withRedis(t, async (redis) => {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-crash-'));
      dirs.push(dir);
      const port = await freePort();
      const config = writeConfig(dir, port, redis);
      const base = `http://127.0.0.1:${port}`;
      const start = (): RunningProcess =>
        startProcess(process.execPath, [CLI, 'serve', '--config', config], { env: childEnv() });

      let gateway = start();
      try {
        await waitForHttp(`${base}/health/ready`, gateway, 60_000);
        const answered = new Set<string>();
        let sent = 0;
        let stop = false;
        const worker = async (w: number): Promise<void> => {
          for (let i = 0; !stop; i++) {
            const id = `crash-${w}-${i}`;
            sent++;
            if (await call(base, id, i % 2 === 1)) answered.add(id);
          }
        };
        const workers = Array.from({ length: 16 }, (_, w) => worker(w));
        const deadline = Date.now() + 20_000;
        while (answered.size < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        gateway.kill('SIGKILL');
        await gateway.exited;
        stop = true;
        await Promise.all(workers);
        assert.ok(answered.size >= 300, `only ${answered.size} calls answered before the kill`);

        // Back up on the same files: the spool is replayed before the gateway is ready.
        gateway = start();
        await waitForHttp(`${base}/health/ready`, gateway, 60_000);
        const counter = `${redis.prefix}budget:${BUDGET}|${windowOf('monthly', Date.now()).key}`;
        const [spent, reserved] = (await redis.redis.command(['HMGET', counter, 'spent', 'reserved'])) as [
          string | null,
          string | null,
        ];
        gateway.kill('SIGTERM');
        assert.equal((await gateway.exited).code, 0, gateway.output());
        const recovery = gateway
          .output()
          .split('\n')
          .filter((line) => line.includes('replayed the crash spool'))
          .map((line) => JSON.parse(line) as { rows: number; inserted: number; settled: number; released: number });
        assert.equal(recovery.length, 1, gateway.output());
        const replay = recovery[0]!;
        assert.ok(replay.inserted > 0, 'rows answered since the last ledger write came back from the spool');

        const rows = readLedger(dir);
        const labels = new Set(rows.map((r) => r.request_id));
        const missing = [...answered].filter((id) => !labels.has(id));
        assert.deepEqual(missing.slice(0, 10), [], `${missing.length} answered calls have no ledger row`);
        assert.equal(new Set(rows.map((r) => r.call_id)).size, rows.length, 'no row twice');
        // Rows beyond the answered calls: calls whose upstream finished but whose answer the kill cut off.
        const unanswered = rows.length - answered.size;
        assert.ok(unanswered >= 0 && unanswered <= 16, `${unanswered} rows without an answer (16 in flight at most)`);
        const ledgerSpend = rows.reduce((sum, r) => sum + (r.cost_micros ?? 0), 0);
        assert.ok(ledgerSpend > 0);
        assert.equal(Number(reserved), 0, 'no reservation left after start-up');
        assert.equal(Number(spent), ledgerSpend, 'the budget counter equals the ledger');
        assert.deepEqual(
          readdirSync(join(dir, 'ledger.db-spool', 'slot-0')).filter((f) => f.endsWith('.jsonl')),
          [],
          'a clean stop leaves no segment behind',
        );
        t.diagnostic(
          `sent ${sent}, answered ${answered.size}, ledger rows ${rows.length} (${unanswered} cut off by the kill), ` +
            `replayed ${replay.rows} rows (${replay.inserted} new), ${replay.settled} reservations settled, ${replay.released} released, ` +
            `counter ${spent} µ$ = ledger ${ledgerSpend} µ$, reserved ${reserved}`,
        );
      } finally {
        if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
      }
    }));
});
