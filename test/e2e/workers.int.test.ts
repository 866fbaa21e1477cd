import assert from 'node:assert/strict';
import { burst } from '../helpers/burst.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { childEnv, CLI, freePort, startProcess, waitForHttp, type RunningProcess } from '../helpers/process.js';
import { withRedis } from '../helpers/redis.js';

// Issue 8, item 12: `tollgate serve --workers N` — N processes on one port, budgets exact across
// them (Redis), one SQLite ledger written by all, one drain for all, a dead worker restarted.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ADMIN = 'workers-admin-key';
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'All cores, please.' }], max_tokens: 24 };

/** A two-worker config in a fresh folder: SQLite file ledger, Redis budgets under `prefix`, mock upstream. */
async function clusterConfig(
  redis: { url: string; prefix: string },
  extra: { server?: string[]; scenario?: string; logLevel?: string } = {},
): Promise<{ dir: string; file: string; base: string; ledger: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-workers-'));
  dirs.push(dir);
  const port = await freePort();
  const ledger = join(dir, 'ledger.db');
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(
    file,
    [
      'server:',
      `  port: ${port}`,
      '  workers: 2',
      // No event-loop shedding: a 200-call burst on a loaded box could 503 some calls; the budget test counts 200/429 only.
      '  maxEventLoopDelayMs: 0',
      ...(extra.server ?? []).map((line) => `  ${line}`),
      `log: { level: ${extra.logLevel ?? 'warn'}, format: json }`,
      `admin: { apiKey: ${ADMIN} }`,
      `storage: { url: "sqlite:${ledger}" }`,
      'ledger: { flushIntervalMs: 50 }',
      // A generous command timeout: on a loaded 2-core box a cold worker's first burst can keep
      // Redis's reply waiting in the event loop past the 500 ms default (budget_unavailable).
      `redis: { url: "${redis.url}", keyPrefix: "${redis.prefix}", commandTimeoutMs: 5000 }`,
      `providers: { mock: { type: mock, scenario: { ${extra.scenario ?? 'latencyMs: 300'} } } }`,
      'models: { gpt-4o-mini: { deployments: [{ provider: mock, model: gpt-4o-mini }] } }',
      // Exact token counts however loaded the box: an estimate past countBudgetMs (3 ms) is an upper
      // bound, the quote's max would exceed the real cost and more than 50 calls would fit.
      'budgets: { refreshIntervalMs: 100, countBudgetMs: 1000 }',
      '',
    ].join('\n'),
  );
  return { dir, file, base: `http://127.0.0.1:${port}`, ledger };
}

function startCluster(file: string): RunningProcess {
  return startProcess(process.execPath, [CLI, 'serve', '--config', file], { env: childEnv() });
}

/** `worker listening` lines of the primary's log: slot → pids, in order. */
function listeningPids(output: string): Map<number, number[]> {
  const pids = new Map<number, number[]>();
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"worker listening"')) continue;
    const entry = JSON.parse(line) as { worker: number; pid: number };
    pids.set(entry.worker, [...(pids.get(entry.worker) ?? []), entry.pid]);
  }
  return pids;
}

/** The first warnings and errors the processes logged (for failure messages). */
const warnings = (output: string): string =>
  output
    .split('\n')
    .filter((line) => /"level":"(warn|error|fatal)"/.test(line))
    .slice(0, 8)
    .join('\n');

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const parentOf = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

/** Which workers answered `/health/ready` within `tries` requests, each on a fresh connection. */
async function workersAnswering(base: string, tries: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries && seen.size < 2; i++) {
    const res = await fetch(`${base}/health/ready`, { headers: { connection: 'close' } });
    await res.arrayBuffer();
    const worker = res.headers.get('x-tollgate-worker');
    if (worker) seen.add(worker);
  }
  return seen;
}

void describe('tollgate serve --workers 2 (real processes)', () => {
  void it('refuses several workers without Redis budgets, naming the settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-workers-'));
    dirs.push(dir);
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(file, `storage: { url: "sqlite:${join(dir, 'ledger.db')}" }\n`);
    const gateway = startProcess(process.execPath, [CLI, 'serve', '--config', file, '--workers', 'auto'], {
      env: childEnv(),
    });
    const exit = await gateway.exited;
    assert.deepEqual(exit, { code: 2, signal: null }, gateway.output());
    assert.match(gateway.output(), /budgets\.store: server\.workers is auto: .*set redis\.url/);
    assert.ok(!existsSync(join(dir, 'ledger.db')), 'nothing was started');
  });

  void it('200 concurrent calls against a hard budget that fits 50: spend ≤ budget, 200 ledger rows in one SQLite file, both workers served, each in its own spool slot', (t) =>
    withRedis(t, async (redis) => {
      const { file, base, ledger } = await clusterConfig(redis);
      const primary = startCluster(file);
      try {
        await waitForHttp(`${base}/health/ready`, primary, 90_000);
        // The most one call can cost, from a quote (no key exists yet: auth is open); the budget fits 50.
        const quote = (await (
          await fetch(`${base}/v1/tollgate/quote`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).json()) as { estimated_max_cost: { micros: number } };
        const max = quote.estimated_max_cost.micros;
        assert.ok(max > 0, 'the mock is priced');
        const limitMicros = 50 * max + Math.floor(max / 2);
        const usd = `${Math.floor(limitMicros / 1e6)}.${String(limitMicros % 1e6).padStart(6, '0')}`;
        const adminCall = (path: string, payload: unknown) =>
          fetch(`${base}/admin/v1${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
            body: JSON.stringify(payload),
          }).then(async (res) => ({ status: res.status, body: (await res.json()) as { key: string; id: string } }));
        assert.equal((await adminCall('/tenants', { id: 'acme' })).status, 201);
        // Made on one worker; the other learns the key and its budget from SQL.
        const created = await adminCall('/keys', { tenant: 'acme', budget: `${usd}/month` });
        assert.equal(created.status, 201);
        // Keys poll every 250 ms, budgets every 100 ms: wait until both workers quote the key's budget.
        const budgetId = `key:${created.body.id}:monthly`;
        const knows = new Set<string>();
        const deadline = Date.now() + 30_000;
        while (knows.size < 2 && Date.now() < deadline) {
          const res = await fetch(`${base}/v1/tollgate/quote`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              connection: 'close',
              authorization: `Bearer ${created.body.key}`,
            },
            body: JSON.stringify(body),
          });
          const quoted = (await res.json()) as { budgets?: { id: string }[] };
          if (quoted.budgets?.some((b) => b.id === budgetId)) knows.add(res.headers.get('x-tollgate-worker') ?? '');
          else await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(knows.size, 2, `workers quoting ${budgetId}: ${[...knows].join(',')}`);

        const responses = await burst([base], 200, created.body.key, body, 'w');
        const ok = responses.filter((r) => r.status === 200).length;
        const refused = responses.filter((r) => r.status === 429);
        assert.equal(
          ok + refused.length,
          200,
          responses
            .filter((r) => r.status !== 200 && r.status !== 429)
            .map((r) => `${r.status} ${r.code}`)
            .join(',') + `\n${warnings(primary.output())}`,
        );
        assert.ok(refused.every((r) => r.code === 'budget_exceeded'));
        const byWorker = (w: string) => responses.filter((r) => r.headers.get('x-tollgate-worker') === w).length;
        assert.equal(byWorker('1') + byWorker('2'), 200, 'every answer names its worker');
        assert.ok(byWorker('1') > 0 && byWorker('2') > 0, `both workers served: ${byWorker('1')}/${byWorker('2')}`);

        // Each worker holds its own spool slot (its pid in LOCK), both children of the primary.
        const spoolRoot = `${ledger}-spool`;
        const holders = readdirSync(spoolRoot)
          .filter((name) => existsSync(join(spoolRoot, name, 'LOCK')))
          .map((name) => Number(readFileSync(join(spoolRoot, name, 'LOCK'), 'utf8')));
        assert.equal(holders.length, 2, `slots held: ${holders.join(',')}`);
        assert.equal(new Set(holders).size, 2);
        assert.ok(holders.every((pid) => alive(pid) && parentOf(pid) === primary.child.pid));

        primary.kill('SIGTERM');
        assert.deepEqual(await primary.exited, { code: 0, signal: null }, primary.output());

        const sqlite = new SqliteDatabase(ledger, { readonly: true });
        try {
          const rows = sqlite
            .prepare(
              "select status, error_code as code, cost_micros as cost, key_id as keyId from requests where request_id like 'w-%'",
            )
            .all() as { status: number; code: string | null; cost: number | null; keyId: string }[];
          assert.equal(rows.length, 200, 'one ledger row per call, none lost between the two writers');
          assert.ok(rows.every((r) => r.keyId === created.body.id));
          assert.equal(rows.filter((r) => r.status === 200).length, ok);
          assert.equal(rows.filter((r) => r.code === 'budget_exceeded').length, refused.length);
          const spent = rows.reduce((sum, r) => sum + (r.cost ?? 0), 0);
          assert.ok(spent <= limitMicros, `spent ${spent} > ${limitMicros}`);
          assert.ok(spent >= limitMicros * 0.8, `spent ${spent} of ${limitMicros}: the workers left the budget unused`);
          // Every call costs exactly the quoted max (max_tokens = the mock's output, exact counts): 50 fit.
          assert.ok(ok >= 50 && ok <= 52, `admitted ${ok}`);
          assert.ok(
            rows.every((r) => r.status !== 200 || r.cost === max),
            'each admitted call cost the quoted max',
          );
          t.diagnostic(
            `admitted ${ok} of 200; answers by worker ${byWorker('1')}/${byWorker('2')}; spent ${spent} of ${limitMicros} µ$`,
          );
        } finally {
          sqlite.close();
        }
      } finally {
        if (primary.child.exitCode === null) primary.kill('SIGKILL');
      }
    }));

  void it('a SIGKILLed worker is restarted (logged); SIGTERM to the primary drains every worker: readiness 503, a stream in flight completes, all exit, the primary exits 0', (t) =>
    withRedis(t, async (redis) => {
      const { file, base } = await clusterConfig(redis, {
        server: ['drainDelayMs: 2000'],
        scenario: 'chunkDelayMs: 150',
        logLevel: 'info',
      });
      const primary = startCluster(file);
      try {
        await waitForHttp(`${base}/health/ready`, primary, 90_000);
        assert.ok(await until(() => listeningPids(primary.output()).size === 2, 10_000), primary.output());
        const [first] = listeningPids(primary.output()).get(1)!;
        const [second] = listeningPids(primary.output()).get(2)!;

        process.kill(first!, 'SIGKILL');
        assert.ok(
          await until(() => (listeningPids(primary.output()).get(1) ?? []).length === 2, 60_000),
          `worker 1 was not restarted:\n${primary.output()}`,
        );
        assert.match(
          primary.output(),
          /"worker":1,"pid":\d+,"code":null,"signal":"SIGKILL".*worker exited unexpectedly/,
        );
        const restarted = listeningPids(primary.output()).get(1)![1]!;
        assert.notEqual(restarted, first);
        assert.deepEqual([...(await workersAnswering(base, 40))].sort(), ['1', '2'], 'both slots serve again');

        // A stream of ~24 chunks 150 ms apart: in flight through the whole drain delay.
        const stream = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...body, stream: true }),
        });
        assert.equal(stream.status, 200);
        const reader = stream.body!.getReader();
        let text = new TextDecoder().decode((await reader.read()).value);
        assert.match(text, /^data: /);

        primary.kill('SIGTERM');
        assert.ok(
          await until(async () => {
            try {
              return (await fetch(`${base}/health/ready`, { headers: { connection: 'close' } })).status === 503;
            } catch {
              return false;
            }
          }, 5_000),
          'readiness 503 while draining',
        );
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        assert.match(text, /data: \[DONE\]\n\n$/, 'the stream finished');
        assert.doesNotMatch(text, /shutting_down/);

        assert.deepEqual(await primary.exited, { code: 0, signal: null }, primary.output());
        assert.equal(primary.output().match(/"worker":\d,"msg":"shutdown complete"/g)?.length, 2, primary.output());
        assert.ok(!alive(restarted) && !alive(second!), 'every worker exited');
        t.diagnostic(`worker 1: pid ${first} killed, restarted as ${restarted}; worker 2: pid ${second}`);
      } finally {
        if (primary.child.exitCode === null) primary.kill('SIGKILL');
        for (const pids of listeningPids(primary.output()).values())
          for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }));

  void it('one Ctrl-C (SIGINT to the whole process group: the primary and every worker at once) drains once and exits 0', (t) =>
    withRedis(t, async (redis) => {
      const { file, base } = await clusterConfig(redis, { logLevel: 'info' });
      // Its own process group, as a shell runs a foreground job.
      const primary = startProcess(process.execPath, [CLI, 'serve', '--config', file], {
        env: childEnv(),
        detached: true,
      });
      try {
        await waitForHttp(`${base}/health/ready`, primary, 90_000);
        assert.ok(await until(() => listeningPids(primary.output()).size === 2, 10_000), primary.output());
        process.kill(-primary.child.pid!, 'SIGINT');
        assert.deepEqual(await primary.exited, { code: 0, signal: null }, primary.output());
        assert.equal(primary.output().match(/"worker":\d,"msg":"shutdown complete"/g)?.length, 2, primary.output());
        assert.doesNotMatch(primary.output(), /second signal|exiting now/);
      } finally {
        if (primary.child.exitCode === null) process.kill(-primary.child.pid!, 'SIGKILL');
      }
    }));
});
