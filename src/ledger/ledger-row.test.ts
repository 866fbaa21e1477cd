import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fromRequestsRow,
  LEDGER_COLUMNS,
  LEDGER_SQL_COLUMNS,
  pushRequestsValues,
  toRequestsInsert,
} from './ledger-row.js';
import { sampleRow } from '../../test/kits/ledger-test-kit.js';

void describe('ledger row mapping', () => {
  void it('binds LEDGER_COLUMNS values per row (the statement chunking relies on it)', () => {
    assert.equal(Object.keys(toRequestsInsert(sampleRow(1))).length, LEDGER_COLUMNS);
  });

  void it('lists every inserted field once, in the order its value is bound', () => {
    const insert = toRequestsInsert(sampleRow(1, { callId: 'call_1', tags: ['t'] }));
    assert.deepEqual(LEDGER_SQL_COLUMNS.map(([key]) => key).sort(), Object.keys(insert).sort());
    const values: unknown[] = ['before'];
    pushRequestsValues(insert, values);
    assert.deepEqual(values, ['before', ...LEDGER_SQL_COLUMNS.map(([key]) => insert[key])]);
    for (const [key, column] of LEDGER_SQL_COLUMNS)
      assert.equal(
        key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
        column,
      );
  });

  void it('stores booleans as 0/1 and tags as JSON, null when empty', () => {
    const insert = toRequestsInsert(sampleRow(1, { stream: true, fallbackUsed: true, tags: ['a', 'b'] }));
    assert.equal(insert.stream, 1);
    assert.equal(insert.fallbackUsed, 1);
    assert.equal(insert.estimated, 0);
    assert.equal(insert.tags, '["a","b"]');
    assert.equal(toRequestsInsert(sampleRow(1, { tags: [] })).tags, null);
  });

  void it('reads back what it wrote', () => {
    const row = sampleRow(2, { tags: ['x'], estimated: true, costMicros: 42 });
    const insert = toRequestsInsert(row);
    const stored = fromRequestsRow({ ...insert, id: 7 } as Parameters<typeof fromRequestsRow>[0]);
    assert.equal(stored.id, 7);
    assert.deepEqual(stored.tags, ['x']);
    assert.equal(stored.estimated, true);
    assert.equal(stored.stream, true);
    assert.equal(stored.costMicros, 42);
  });
});
