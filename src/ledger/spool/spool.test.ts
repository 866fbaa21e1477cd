import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { openDatabase } from '../../storage/database.js';
import { createMemoryBudgetStore } from '../../budgets/memory-budget-store.js';
import type { Budget, BudgetCharge } from '../../budgets/types.js';
import { chargeFor } from '../../budgets/windows.js';
import { toRequestsInsert } from '../ledger-row.js';
import { sampleRow } from '../../../test/kits/ledger-test-kit.js';
import { encodeRecord, encodeRowRecord, readSegment } from './spool-records.js';
import { recoverSpool } from './spool-recovery.js';
import { spooledHolds } from '../../budgets/spooled-holds.js';
import { Spool, type SpoolOptions } from './spool.js';

const log = pino({ level: 'silent' });
const roots: string[] = [];
after(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

function root(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-spool-'));
  roots.push(dir);
  return dir;
}

const options = (dir: string, extra: Partial<SpoolOptions> = {}): SpoolOptions => ({
  dir,
  fsync: 'off',
  fsyncIntervalMs: 1_000,
  segmentBytes: 1_024 * 1_024,
  log,
  ...extra,
});
const segments = (slot: string): string[] => readdirSync(slot).filter((f) => f.endsWith('.jsonl'));

const budget: Budget = {
  id: 'all',
  scope: { kind: 'global' },
  window: 'monthly',
  limitMicros: 1_000_000,
  action: 'hard',
  downgradeTo: null,
  thresholds: [],
  failOpen: false,
  source: 'config',
};
const charge: BudgetCharge = chargeFor(budget, Date.UTC(2026, 10, 29));

void describe('crash spool', () => {
  void it('writes a row as the same line whether or not the record object is built', () => {
    for (const row of [sampleRow(1), sampleRow(2, { callId: 'call_2', tags: ['a"b'], endUser: 'ü😀\n' }), null]) {
      const r = row as ReturnType<typeof sampleRow>;
      assert.equal(encodeRowRecord(r), encodeRecord({ k: 'row', row: r }));
    }
  });

  void it('keeps a segment while any record in it is pending and deletes it once all are done', () => {
    const dir = root();
    const spool = new Spool(options(dir, { segmentBytes: 4_096 }));
    const tickets = Array.from({ length: 20 }, (_, i) => spool.appendRow(sampleRow(i, { callId: `call_${i}` })));
    const files = segments(spool.slotDir);
    assert.ok(files.length >= 2, `20 rows of ~400 bytes fill more than one 4 KiB segment (${files.length})`);
    assert.equal(spool.stats().pending, 20);
    const inFirst = readSegment(join(spool.slotDir, files[0]!)).records.length;
    tickets.slice(0, inFirst).forEach((t) => t.done());
    tickets[0]!.done(); // twice: counted once
    assert.equal(spool.stats().pending, 20 - inFirst);
    assert.ok(segments(spool.slotDir).length < files.length, 'the first sealed segment, all done, is gone');
    tickets.slice(inFirst).forEach((t) => t.done());
    spool.close();
    assert.deepEqual(segments(spool.slotDir), [], 'nothing pending: nothing left on disk');
  });

  void it('a segment with records still pending outlives the process and is inherited by the next one', () => {
    const dir = root();
    const first = new Spool(options(dir));
    first.appendRow(sampleRow(1, { callId: 'call_1' })).done();
    first.appendRow(sampleRow(2, { callId: 'call_2' })); // never written to the database
    first.close();
    const next = new Spool(options(dir));
    assert.equal(next.slotDir, first.slotDir, 'the slot is free again');
    assert.equal(next.inherited.length, 1);
    const { records } = readSegment(next.inherited[0]!);
    assert.deepEqual(
      records.filter((r) => r.k === 'row').map((r) => (r.k === 'row' ? r.row.callId : null)),
      ['call_1', 'call_2'],
    );
    next.forgetInherited();
    assert.deepEqual(segments(next.slotDir), []);
    next.close();
  });

  void it('reads a segment whose last line was torn by the crash', () => {
    const dir = root();
    const spool = new Spool(options(dir));
    spool.appendRow(sampleRow(1, { callId: 'call_1' }));
    spool.appendHold('call_1', [charge]);
    const [file] = segments(spool.slotDir);
    appendFileSync(join(spool.slotDir, file!), '{"k":"row","row":{"requestId":"req_');
    const { records, unreadable } = readSegment(join(spool.slotDir, file!));
    assert.deepEqual(
      records.map((r) => r.k),
      ['row', 'hold'],
    );
    assert.equal(unreadable, 1);
    spool.close();
  });

  void it('gives each live process its own slot and takes over the slot of a dead one, segments included', () => {
    const dir = root();
    const a = new Spool(options(dir));
    const b = new Spool(options(dir));
    assert.notEqual(a.slotDir, b.slotDir);
    // A replica that died: its lock names a pid that is not running, its segment is still there.
    const dead = join(dir, 'slot-7');
    mkdirSync(dead);
    writeFileSync(join(dead, 'LOCK'), '2147483646');
    writeFileSync(join(dead, '000000000000001-000000.jsonl'), `${JSON.stringify({ k: 'row', row: sampleRow(9) })}\n`);
    const c = new Spool(options(dir));
    assert.ok(![a.slotDir, b.slotDir].includes(c.slotDir));
    assert.deepEqual(
      c.inherited.map((f) => f.slice(dir.length)),
      ['/slot-7/000000000000001-000000.jsonl'],
    );
    c.forgetInherited();
    assert.deepEqual(readdirSync(dead), [], 'replayed and unlocked');
    [a, b, c].forEach((s) => s.close());
  });

  void it('recovery writes each row once and settles or releases what the dead process held', async () => {
    const dir = root();
    const database = await openDatabase({ url: 'sqlite::memory:', log });
    const store = createMemoryBudgetStore();
    await store.seed(charge, 0);
    try {
      const dead = new Spool(options(dir));
      // Answered and settled: nothing to do but the row.
      await store.reserve({ id: 'call_done', charges: [charge], amountMicros: 500, ttlMs: 60_000 });
      const held = dead.appendHold('call_done', [charge]);
      dead.appendRow(sampleRow(1, { callId: 'call_done', costMicros: 120 }));
      await store.settle('call_done', 120, [charge]);
      dead.resolved('call_done', held);
      // Answered, row spooled, settle never reached the store.
      await store.reserve({ id: 'call_unsettled', charges: [charge], amountMicros: 500, ttlMs: 60_000 });
      dead.appendHold('call_unsettled', [charge]);
      dead.appendRow(sampleRow(2, { callId: 'call_unsettled', costMicros: 80 }));
      // In flight when the process died: no row.
      await store.reserve({ id: 'call_cut', charges: [charge], amountMicros: 500, ttlMs: 60_000 });
      dead.appendHold('call_cut', [charge]);
      // A row already written by the ledger before the crash.
      dead.appendRow(sampleRow(3, { callId: 'call_written', costMicros: 5 }));
      await database.db
        .insertInto('requests')
        .values(toRequestsInsert(sampleRow(3, { callId: 'call_written', costMicros: 5 })))
        .execute();
      // The process dies: nothing is closed.

      const next = new Spool(options(join(dir)));
      assert.equal(next.inherited.length, 0, 'the dead process still holds its slot lock (same pid here)');
      const report = await recoverSpool(
        segments(dead.slotDir).map((f) => join(dead.slotDir, f)),
        {
          database,
          store: spooledHolds(store, (id) => (id === budget.id ? budget : undefined)),
          log,
        },
      );
      assert.deepEqual(
        { rows: report.rows, inserted: report.inserted, settled: report.settled, released: report.released },
        { rows: 3, inserted: 2, settled: 1, released: 1 },
      );
      const stored = await database.db.selectFrom('requests').select(['callId', 'costMicros']).orderBy('id').execute();
      assert.deepEqual(
        stored.map((r) => r.callId),
        ['call_written', 'call_done', 'call_unsettled'],
      );
      const standing = await store.standing(charge);
      assert.deepEqual(
        { spent: standing?.spentMicros, reserved: standing?.reservedMicros },
        { spent: 200, reserved: 0 },
        'settled 120 + 80, nothing held',
      );
      // Replaying again (a crash during recovery) changes nothing.
      const again = await recoverSpool(
        segments(dead.slotDir).map((f) => join(dead.slotDir, f)),
        {
          database,
          store: spooledHolds(store, () => undefined),
          log,
        },
      );
      assert.equal(again.inserted, 0);
      assert.equal((await store.standing(charge))?.spentMicros, 200);
      next.close();
    } finally {
      await database.close();
    }
  });
});
