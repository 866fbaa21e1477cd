import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { readinessProbe } from './readiness.js';

const log = pino({ level: 'silent' });
const never = (): Promise<void> => new Promise(() => undefined);

describe('readinessProbe', () => {
  it('names each check: ok, timeout (no answer in the box), unreachable (an error, its text kept out)', async () => {
    const probe = readinessProbe(
      {
        storage: async () => undefined,
        redis: never,
        other: async () => {
          throw new Error('connect ECONNREFUSED 10.0.0.7:5432');
        },
      },
      { timeoutMs: 50, log },
    );
    const started = Date.now();
    const report = await probe();
    assert.ok(Date.now() - started < 1_000);
    assert.deepEqual(report, { ready: false, checks: { storage: 'ok', redis: 'timeout', other: 'unreachable' } });
  });

  it('awaits a check still running from an earlier probe instead of starting it again', async () => {
    let started = 0;
    let finish!: () => void;
    const probe = readinessProbe(
      {
        storage: () => {
          started++;
          return new Promise<void>((resolve) => (finish = resolve));
        },
      },
      { timeoutMs: 20, log },
    );
    assert.equal((await probe()).checks.storage, 'timeout');
    assert.equal((await probe()).checks.storage, 'timeout');
    assert.equal(started, 1);
    finish();
    assert.deepEqual(await probe(), { ready: true, checks: { storage: 'ok' } });
    assert.equal(started, 1, 'the finished run answered');
    await probe();
    assert.equal(started, 2);
  });
});
