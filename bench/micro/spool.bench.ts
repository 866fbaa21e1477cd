// What the crash spool adds to each call: one JSON line appended with a synchronous write.
// Not a test: run it and read the numbers.
//   node --import tsx bench/micro/spool.bench.ts [rows=50000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { sampleRow } from '../../test/kits/ledger-test-kit.js';
import { Spool, type FsyncPolicy } from '../../src/ledger/spool/spool.js';

const n = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-spool-bench-'));
// Every field present, as the ledger observer records them (about 530 bytes a line).
const rows = Array.from({ length: 1_000 }, (_, i) =>
  sampleRow(i, {
    callId: `call_${String(i).padStart(32, '0')}`,
    errorCode: null,
    cachedTokens: 0,
    ttftMs: 12.5,
    attempts: 1,
    fallbackUsed: false,
    tenant: 'acme',
    feature: null,
    keyId: 'key_0123456789',
    endUser: null,
    tags: [],
    costMicros: 123,
    priceVersion: '2026-01-01',
    estimated: false,
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
    const cpuStart = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) tickets.push(spool.appendRow(rows[i % rows.length]!));
    const micros = Number(process.hrtime.bigint() - started) / count / 1_000;
    const cpu = process.cpuUsage(cpuStart);
    for (const ticket of tickets) ticket.done();
    spool.close();
    const cpuMicros = (cpu.user + cpu.system) / count;
    console.log(
      `fsync ${fsync.padEnd(8)} ${micros.toFixed(2)} µs per row, CPU ${cpuMicros.toFixed(2)} µs (${count} rows)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
