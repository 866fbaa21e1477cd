import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../storage/database.js';
import { keyLifecycleContract } from '../../test/kits/key-lifecycle-contract.js';

keyLifecycleContract('SQLite file (WAL)', async (_t, fn) => {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-keys-'));
  const database = await openDatabase({ url: `sqlite:${join(dir, 'tollgate.db')}` });
  try {
    await fn(database);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});
