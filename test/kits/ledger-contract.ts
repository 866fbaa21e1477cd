// The ledger contract: every SQL backend must pass it. Registered by ledger.test.ts (SQLite)
// and ledger.int.test.ts (PostgreSQL); test-only, nothing in the gateway imports this file.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { FakeClock } from '../../src/core/clock.js';
import type { Database } from '../../src/storage/database.js';
import { createLedger, type LedgerOptions } from '../../src/ledger/ledger.js';
import type { LedgerRow } from '../../src/ledger/ledger-row.js';
import * as kit from './ledger-test-kit.js';

/** Opens a fresh, migrated, empty database for `fn` and disposes of it afterwards. */
export type WithDatabase = (t: TestContext, fn: (database: Database) => Promise<void>) => Promise<void>;

/** Options under which nothing is written unless a test asks for it. */
const quiet: LedgerOptions = { batchSize: 1_000, flushIntervalMs: 60_000, maxBufferedRows: 10_000, log: kit.silentLog };

export function ledgerContract(backend: string, withDatabase: WithDatabase): void {
  void describe(`ledger contract: ${backend}`, () => {
    void it('writes every field exactly as recorded, with defaults for what is left out', (t) =>
      withDatabase(t, async (database) => {
        const full: Required<LedgerRow> = {
          requestId: 'req_full',
          callId: 'call_full',
          createdAt: 1_767_225_600_123,
          alias: 'smart',
          provider: 'anthropic',
          deployment: 'claude-eu',
          upstreamModel: 'claude-sonnet-4',
          status: 502,
          outcome: 'error',
          errorCode: 'upstream_unavailable',
          stream: true,
          inputTokens: 1_234,
          outputTokens: 5_678,
          cachedTokens: 1_000,
          latencyMs: 1_234.567_890_1,
          ttftMs: 87.125,
          attempts: 3,
          fallbackUsed: true,
          tenant: 'acme',
          feature: 'search',
          keyId: 'key_1',
          endUser: 'user-ü-😀',
          tags: ['beta', 'quote"d'],
          costMicros: 9_007_199_254_740,
          priceVersion: '2026-01-01',
          estimated: true,
        };
        const minimal = kit.sampleRow(1, { provider: undefined, deployment: undefined, upstreamModel: undefined });
        const ledger = createLedger(database, quiet);
        ledger.record(full);
        ledger.record(minimal);
        ledger.record(kit.sampleRow(2, { inputTokens: 12.6, costMicros: 1.4 }));
        await ledger.close();

        const [first, second, third] = await kit.readLedger(database);
        assert.deepEqual({ ...first, id: 0 }, { ...full, id: 0 });
        assert.deepEqual(
          { ...second, id: 0 },
          {
            ...minimal,
            id: 0,
            provider: null,
            deployment: null,
            upstreamModel: null,
            errorCode: null,
            cachedTokens: 0,
            ttftMs: null,
            callId: null,
            attempts: 1,
            fallbackUsed: false,
            tenant: null,
            feature: null,
            keyId: null,
            endUser: null,
            tags: [],
            costMicros: null,
            priceVersion: null,
            estimated: false,
          },
        );
        assert.equal(third?.inputTokens, 13, 'integer columns are rounded the same on every backend');
        assert.equal(third?.costMicros, 1);
        assert.ok(first && second && third && first.id < second.id && second.id < third.id);
      }));

    void it('writes rows recorded across many batches, in order, exactly once', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, { ...quiet, batchSize: 7 });
        for (let i = 0; i < 50; i++) ledger.record(kit.sampleRow(i));
        await ledger.flush();
        assert.deepEqual(
          await kit.requestIds(database),
          Array.from({ length: 50 }, (_, i) => `req_${i}`),
        );
        assert.deepEqual(ledger.stats(), { written: 50, buffered: 0, dropped: 0, failedWrites: 0 });
        await ledger.close();
      }));

    void it('keeps one row per call id: a replayed row is skipped, rows without a call id all land', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, { ...quiet, batchSize: 2 });
        ledger.record(kit.sampleRow(0, { callId: 'call_a' }));
        ledger.record(kit.sampleRow(1, { callId: 'call_b' }));
        await ledger.flush();
        // The same calls again (a spool replayed after a crash), mixed with new rows, in one batch and alone.
        ledger.record(kit.sampleRow(0, { callId: 'call_a', requestId: 'replayed' }));
        ledger.record(kit.sampleRow(2, { callId: 'call_c' }));
        ledger.record(kit.sampleRow(1, { callId: 'call_b', requestId: 'replayed' }));
        ledger.record(kit.sampleRow(3));
        ledger.record(kit.sampleRow(4));
        await ledger.close();
        assert.deepEqual(await kit.requestIds(database), ['req_0', 'req_1', 'req_2', 'req_3', 'req_4']);
        assert.equal(ledger.stats().dropped, 0, 'a skipped duplicate is not a rejected row');
      }));

    void it('splits a batch larger than one statement allows into several, in one transaction', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, { ...quiet, batchSize: 3_000 });
        for (let i = 0; i < 3_000; i++) ledger.record(kit.sampleRow(i));
        await ledger.close();
        assert.equal((await kit.readLedger(database)).length, 3_000);
      }));

    void it('close writes what is buffered; rows recorded after it are counted as dropped', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, quiet);
        for (let i = 0; i < 5; i++) ledger.record(kit.sampleRow(i));
        await kit.nextTurn();
        assert.equal(ledger.stats().written, 0, 'below batchSize and before the interval, nothing is written');
        await ledger.close();
        assert.equal((await kit.readLedger(database)).length, 5);
        ledger.record(kit.sampleRow(99));
        await ledger.close();
        await ledger.flush();
        assert.deepEqual(ledger.stats(), { written: 5, buffered: 0, dropped: 1, failedWrites: 0 });
        assert.equal((await kit.readLedger(database)).length, 5);
      }));

    void it('reaching batchSize schedules a write on the next turn, never inline', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, { ...quiet, batchSize: 5 });
        for (let i = 0; i < 4; i++) ledger.record(kit.sampleRow(i));
        await kit.nextTurn();
        assert.equal(ledger.stats().written, 0);
        ledger.record(kit.sampleRow(4));
        assert.deepEqual(ledger.stats(), { written: 0, buffered: 5, dropped: 0, failedWrites: 0 });
        await kit.eventually(() => ledger.stats().written === 5, 'the batch write');
        await ledger.close();
      }));

    void it('the timer writes a partial batch every flushIntervalMs', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, { ...quiet, flushIntervalMs: 20 });
        ledger.record(kit.sampleRow(1));
        ledger.record(kit.sampleRow(2));
        await kit.eventually(() => ledger.stats().written === 2, 'the timed write');
        await ledger.close();
      }));

    void it('rows recorded while a write is in flight wait for it: one write at a time', (t) =>
      withDatabase(t, async (database) => {
        const held = kit.holdInserts(database);
        const ledger = createLedger(database, { ...quiet, batchSize: 4, writer: held.writer });
        for (let i = 0; i < 4; i++) ledger.record(kit.sampleRow(i));
        await kit.eventually(() => held.counts.started === 1, 'the first write to start');
        for (let i = 4; i < 10; i++) ledger.record(kit.sampleRow(i));
        const flushed = ledger.flush();
        for (let i = 0; i < 5; i++) await kit.nextTurn();
        assert.equal(held.counts.started, 1, 'no second write while the first is in flight');
        assert.deepEqual(ledger.stats(), { written: 0, buffered: 10, dropped: 0, failedWrites: 0 });
        held.release();
        await flushed;
        assert.equal(held.counts.maxActive, 1);
        assert.deepEqual(
          await kit.requestIds(database),
          Array.from({ length: 10 }, (_, i) => `req_${i}`),
        );
        await ledger.close();
      }));

    void it('keeps rows through a failed write and writes them once the database is back', (t) =>
      withDatabase(t, async (database) => {
        const ledger = createLedger(database, quiet);
        await kit.offline(database);
        for (let i = 0; i < 3; i++) ledger.record(kit.sampleRow(i));
        await assert.rejects(ledger.flush());
        assert.deepEqual(ledger.stats(), { written: 0, buffered: 3, dropped: 0, failedWrites: 1 });
        ledger.record(kit.sampleRow(3));
        ledger.record(kit.sampleRow(4));
        await kit.online(database);
        await ledger.flush();
        assert.deepEqual(await kit.requestIds(database), ['req_0', 'req_1', 'req_2', 'req_3', 'req_4']);
        assert.deepEqual(ledger.stats(), { written: 5, buffered: 0, dropped: 0, failedWrites: 1 });
        await ledger.close();
      }));

    void it('retries in the background with backoff, logging once per failure streak', (t) =>
      withDatabase(t, async (database) => {
        const clock = new FakeClock();
        const { log, messages } = kit.capturingLogger();
        const ledger = createLedger(database, { ...quiet, flushIntervalMs: 10, clock, log });
        await kit.offline(database);
        ledger.record(kit.sampleRow(1));
        await kit.eventually(() => ledger.stats().failedWrites === 1, 'the first failure');
        await new Promise((resolve) => setTimeout(resolve, 60)); // several ticks, all inside the backoff
        assert.equal(ledger.stats().failedWrites, 1, 'no retry before the backoff has elapsed');
        await clock.advance(10);
        await kit.eventually(() => ledger.stats().failedWrites === 2, 'the retry');
        await kit.online(database);
        await clock.advance(20); // the backoff doubled
        await kit.eventually(() => ledger.stats().written === 1, 'the recovery');
        const count = (msg: string) => messages().filter((m) => m.startsWith(msg)).length;
        assert.equal(count('ledger write failed'), 1);
        assert.equal(count('ledger writes recovered'), 1);
        await ledger.close();
      }));

    void it('drops the oldest rows beyond maxBufferedRows and counts them', (t) =>
      withDatabase(t, async (database) => {
        const { log, messages } = kit.capturingLogger();
        const ledger = createLedger(database, { ...quiet, maxBufferedRows: 5, log });
        for (let i = 0; i < 8; i++) ledger.record(kit.sampleRow(i));
        assert.deepEqual(ledger.stats(), { written: 0, buffered: 5, dropped: 3, failedWrites: 0 });
        await ledger.flush();
        assert.deepEqual(await kit.requestIds(database), ['req_3', 'req_4', 'req_5', 'req_6', 'req_7']);
        // While the database is down, a failed batch goes back to the front and is the oldest.
        await kit.offline(database);
        for (let i = 10; i < 14; i++) ledger.record(kit.sampleRow(i));
        await assert.rejects(ledger.flush());
        for (let i = 14; i < 17; i++) ledger.record(kit.sampleRow(i));
        assert.deepEqual(ledger.stats(), { written: 5, buffered: 5, dropped: 5, failedWrites: 1 });
        await kit.online(database);
        await ledger.close();
        assert.deepEqual((await kit.requestIds(database)).slice(5), ['req_12', 'req_13', 'req_14', 'req_15', 'req_16']);
        assert.ok(messages().some((m) => m.startsWith('ledger dropping rows')));
      }));

    void it('a row the database refuses is dropped without blocking the others', (t) =>
      withDatabase(t, async (database) => {
        const { log, messages } = kit.capturingLogger();
        const ledger = createLedger(database, { ...quiet, log });
        ledger.record(kit.sampleRow(0));
        ledger.record(kit.sampleRow(1, { status: Number.NaN }));
        assert.doesNotThrow(() => ledger.record(null as unknown as LedgerRow));
        ledger.record(kit.sampleRow(3));
        await ledger.flush();
        assert.deepEqual(await kit.requestIds(database), ['req_0', 'req_3']);
        assert.deepEqual(
          messages().filter((m) => m.startsWith('ledger rows rejected')),
          ['ledger rows rejected by the database; dropped'],
          'logged once per batch',
        );
        assert.deepEqual(ledger.stats(), { written: 2, buffered: 0, dropped: 2, failedWrites: 0 });
        await ledger.close();
      }));
  });
}
