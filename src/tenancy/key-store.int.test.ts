import { withPostgresSchema } from '../../test/helpers/postgres.js';
import { openDatabase } from '../storage/database.js';
import { keyLifecycleContract } from '../../test/kits/key-lifecycle-contract.js';

keyLifecycleContract('PostgreSQL', (t, fn) =>
  withPostgresSchema(t, async ({ url, schema }) => {
    const database = await openDatabase({ url, schema });
    try {
      await fn(database);
    } finally {
      await database.close();
    }
  }),
);
