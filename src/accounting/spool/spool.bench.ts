// What the crash spool adds to each call: one JSON line appended with a synchronous write.
// Not a test: run it and read the numbers.
//   node --import tsx src/accounting/spool/spool.bench.ts [rows=50000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { sampleRow } from '../ledger-test-kit.js';
import { Spool, type FsyncPolicy } from './spool.js';

const n = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-spool-bench-'));
const rows = Array.from({ length: 1_000 }, (_, i) =>
  sampleRow(i, {
    callId: `call_${String(i).padStart(32, '0')}`,
    tenant: 'acme',
    keyId: 'key_0123456789',
    costMicros: 123,
  }),
);
try {
  for (const fsync of ['off', 'interval', 'always'] as FsyncPolicy[]) {
    const spool = new Spool({
      dir: join(dir, fsync),
      fsync,
      fsyncIntervalMs: 1_000,
      segmentBytes: 4 << 20,
      log: pino({ level: 'silent' }),
    });
    const count = fsync === 'always' ? Math.min(n, 2_000) : n;
    const tickets = [];
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) tickets.push(spool.appendRow(rows[i % rows.length]!));
    const micros = Number(process.hrtime.bigint() - started) / count / 1_000;
    for (const ticket of tickets) ticket.done();
    spool.close();
    console.log(`fsync ${fsync.padEnd(8)} ${micros.toFixed(2)} µs per row (${count} rows)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
