import { withPostgresSchema } from '../../test/helpers/postgres.js';
import { openDatabase } from '../storage/database.js';
import { usageReportContract } from '../../test/kits/usage-report-contract.js';

usageReportContract('PostgreSQL', (t, fn) =>
  withPostgresSchema(t, async ({ url, schema }) => {
    const database = await openDatabase({ url, schema });
    try {
      await fn(database);
    } finally {
      await database.close();
    }
  }),
);
