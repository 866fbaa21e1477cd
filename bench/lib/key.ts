// The bench's virtual key, made the way a user makes one: `tollgate tenants create` and
// `tollgate keys create --budget` against the Tollgate's config (its SQLite file) before the
// server starts. The key's hard budget is far larger than a bench run can spend, so it never
// refuses a call, but it applies to every one: each call is quoted, reserved and settled
// against it. Creating a key also switches `auth.mode: auto` from open to keys: from then on
// every call to /v1 needs a key.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../bin/tollgate.js', import.meta.url));

export const BENCH_TENANT = 'bench';
/** A hard monthly budget on the key: about 3 million times what one bench run spends. */
export const BENCH_BUDGET = '100000/month';

export interface BenchKey {
  secret: string;
  keyId: string;
  tenant: string;
  budgetId: string;
}

/**
 * Runs the CLI against `configFile` with exactly `env` (the bench's Tollgate environment); the
 * secret comes back on stdout (`--json`).
 */
export async function provisionKey(configFile: string, env: NodeJS.ProcessEnv): Promise<BenchKey> {
  const cli = async (...args: string[]): Promise<string> => {
    try {
      const r = await promisify(execFile)(process.execPath, [BIN, ...args, '--config', configFile], {
        env,
        timeout: 30_000,
      });
      return r.stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`tollgate ${args.slice(0, 2).join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
    }
  };
  await cli('tenants', 'create', BENCH_TENANT);
  const out = JSON.parse(
    await cli('keys', 'create', '--tenant', BENCH_TENANT, '--name', 'bench', '--budget', BENCH_BUDGET, '--json'),
  ) as { id: string; tenant: string; key: string; budgets: { id: string }[] };
  if (out.budgets.length !== 1) throw new Error(`expected one budget on the bench key, got ${out.budgets.length}`);
  return { secret: out.key, keyId: out.id, tenant: out.tenant, budgetId: out.budgets[0]!.id };
}
