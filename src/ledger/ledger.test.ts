import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../storage/database.js';
import { ledgerContract } from '../../test/kits/ledger-contract.js';

ledgerContract('SQLite in memory', async (_t, fn) => {
  const database = await openDatabase({ url: 'sqlite::memory:' });
  try {
    await fn(database);
  } finally {
    await database.close();
  }
});

ledgerContract('SQLite file (WAL)', async (_t, fn) => {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-ledger-'));
  const database = await openDatabase({ url: `sqlite:${join(dir, 'tollgate.db')}` });
  try {
    await fn(database);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});
