import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRowRejection, rowsPerStatement } from './ledger-write.js';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

void describe('ledger writes', () => {
  void it('fits a statement under each dialect parameter limit', () => {
    assert.equal(rowsPerStatement('sqlite'), 1_260);
    assert.equal(rowsPerStatement('postgres'), 2_520);
  });

  void it('tells a refused row (drop it) from an unavailable database (retry)', () => {
    for (const code of ['22P02', '22003', '23502', '23505', 'SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_MISMATCH']) {
      assert.equal(isRowRejection(withCode(code)), true, code);
    }
    assert.equal(
      isRowRejection(new TypeError('SQLite3 can only bind numbers, strings, bigints, buffers, and null')),
      true,
    );
    for (const code of [
      'ECONNREFUSED',
      '57P01',
      '08006',
      '42P01',
      '53300',
      'SQLITE_BUSY',
      'SQLITE_ERROR',
      'SQLITE_FULL',
    ]) {
      assert.equal(isRowRejection(withCode(code)), false, code);
    }
    assert.equal(isRowRejection(new Error('Connection terminated unexpectedly')), false);
    assert.equal(isRowRejection(null), false);
  });
});
