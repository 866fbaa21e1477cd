import { withPostgresSchema } from '../../test/helpers/postgres.js';
import { openDatabase } from '../storage/database.js';
import { ledgerContract } from '../../test/kits/ledger-contract.js';

ledgerContract('PostgreSQL', (t, fn) =>
  withPostgresSchema(t, async ({ url, schema }) => {
    const database = await openDatabase({ url, schema });
    try {
      await fn(database);
    } finally {
      await database.close();
    }
  }),
);
