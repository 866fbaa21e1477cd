import {
  close as closeFd,
  closeSync,
  fdatasync,
  fdatasyncSync,
  openSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LedgerRow } from '../ledger-row.js';
import { encodeRecord, encodeRowRecord, toSpooledCharge, type HeldCharge } from './spool-records.js';
import { abandonedSlots, acquireSlot, type SpoolSlot } from './spool-slots.js';

/**
 * `off`: never fsync (a process crash loses nothing — the kernel has the bytes — a machine crash
 * loses what the kernel had not written back); `interval`: fdatasync every `fsyncIntervalMs`
 * (a machine crash loses at most about that much); `always`: fdatasync on every record.
 */
export type FsyncPolicy = 'off' | 'interval' | 'always';

export interface SpoolOptions {
  /** The spool root; this process takes a slot inside it. */
  dir: string;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** A segment reaching this size is sealed and a new one started. */
  segmentBytes: number;
  log: Logger;
}

/** Something the spool keeps on disk until `done()`: a row not yet in the database, a reservation not yet settled. */
export interface SpoolTicket {
  done(): void;
}

export interface SpoolStats {
  /** Segment files on disk, this process's own. */
  segments: number;
  /** Rows and reservations written but not yet done. */
  pending: number;
  /** Records that could not be written (disk full, …): those calls are not crash-safe. */
  writeErrors: number;
}

/**
 * The crash spool: an append-only journal on local disk, so that no answered call is without its
 * ledger row after a process crash (`kill -9`, OOM kill). The ledger appends each row here
 * synchronously, before the answer completes, and marks it done once the row is in the
 * database; the budget service journals reservations on a shared store and marks them done once
 * settled. A segment whose records are all done is deleted. At start-up, `inherited` lists the
 * segments left by processes that died, for `recoverSpool` to replay.
 *
 * A write error never fails a call: it is logged and counted, and that call is simply not
 * crash-safe.
 */
export class Spool {
  /** Segment files left by dead processes (this slot's and abandoned slots'), oldest first. */
  readonly inherited: string[];
  private readonly slots: SpoolSlot[];
  private active: Segment | null = null;
  private readonly sealed = new Set<Segment>();
  private sequence = 0;
  private writeErrors = 0;
  private lastErrorLog = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Made once: each ticket holds it rather than a closure of its own. */
  private readonly retire = (segment: Segment): void => this.doneWith(segment);

  constructor(private readonly options: SpoolOptions) {
    const own = acquireSlot(options.dir);
    const others = abandonedSlots(options.dir, own);
    this.slots = [own, ...others];
    this.inherited = this.slots.flatMap((slot) => segmentFiles(slot.dir));
    const tick = Math.min(options.fsyncIntervalMs, 1_000);
    this.timer = setInterval(() => this.maintain(), tick);
    this.timer.unref();
  }

  /** This process's slot directory. */
  get slotDir(): string {
    return this.slots[0]!.dir;
  }

  appendRow(row: LedgerRow): SpoolTicket {
    return this.append(encodeRowRecord(row), true);
  }

  appendHold(id: string, charges: readonly HeldCharge[]): SpoolTicket {
    return this.append(encodeRecord({ k: 'hold', id, charges: charges.map(toSpooledCharge) }), true);
  }

  /** The reservation `id` is settled or released in the store; `ticket` is its hold's. */
  resolved(id: string, ticket: SpoolTicket): void {
    this.append(encodeRecord({ k: 'done', id }), false);
    ticket.done();
  }

  /** Deletes the inherited segments once they are replayed, and gives up the abandoned slots. */
  forgetInherited(): void {
    for (const file of this.inherited) removeFile(file);
    this.inherited.length = 0;
    for (const slot of this.slots.splice(1)) slot.release();
  }

  stats(): SpoolStats {
    const all = [...this.sealed, ...(this.active ? [this.active] : [])];
    return {
      segments: all.length,
      pending: all.reduce((sum, s) => sum + s.pending, 0),
      writeErrors: this.writeErrors,
    };
  }

  /** Syncs and closes the files; segments whose records are all done are deleted, the rest stay for the next start. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const all = [...this.sealed, ...(this.active ? [this.active] : [])];
    this.active = null;
    for (const segment of all) {
      segment.close(this.options.fsync !== 'off');
      if (segment.pending === 0) removeFile(segment.path);
    }
    this.sealed.clear();
    const left = all.filter((s) => s.pending > 0);
    if (left.length > 0)
      this.options.log.warn(
        { segments: left.length, pending: left.reduce((n, s) => n + s.pending, 0), dir: this.slotDir },
        'spool closed with records not yet in the database; they are replayed at the next start',
      );
    for (const slot of this.slots) slot.release();
  }

  private append(line: string, tracked: boolean): SpoolTicket {
    if (this.closed) return NO_TICKET;
    try {
      const segment = (this.active ??= this.open());
      segment.write(line, this.options.fsync === 'always');
      if (!tracked) return NO_TICKET;
      segment.pending++;
      const ticket = new Ticket(segment, this.retire);
      if (segment.bytes >= this.options.segmentBytes) this.seal(segment);
      return ticket;
    } catch (err) {
      this.writeErrors++;
      const now = Date.now();
      if (now - this.lastErrorLog > 10_000) {
        this.lastErrorLog = now;
        this.options.log.error(
          { err, dir: this.slotDir },
          'spool write failed: calls are not crash-safe until it recovers',
        );
      }
      return NO_TICKET;
    }
  }

  private open(): Segment {
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.sequence++).padStart(6, '0')}.jsonl`;
    return new Segment(join(this.slotDir, name));
  }

  /**
   * Closes a full or idle segment without blocking the event loop: its records are already in
   * the OS (safe from a process crash); the fdatasync that makes them safe from a power cut runs
   * in the background before the descriptor closes. A synchronous fsync here stalled the loop for
   * seconds when the disk was busy.
   */
  private seal(segment: Segment): void {
    if (this.active === segment) this.active = null;
    if (segment.pending === 0) {
      segment.close(false);
      removeFile(segment.path);
      return;
    }
    segment.closeInBackground(this.options.fsync !== 'off');
    this.sealed.add(segment);
  }

  private doneWith(segment: Segment): void {
    if (segment.pending > 0 || this.active === segment || !this.sealed.has(segment)) return;
    this.sealed.delete(segment);
    removeFile(segment.path);
  }

  /** Periodic: fdatasync what was written (policy `interval`), and retire an idle segment whose records are all done. */
  private maintain(): void {
    const segment = this.active;
    if (!segment) return;
    if (this.options.fsync === 'interval' && segment.dirty) segment.syncInBackground();
    if (segment.pending === 0 && Date.now() - segment.openedAt > 1_000) this.seal(segment);
  }
}

const NO_TICKET: SpoolTicket = Object.freeze({ done: () => undefined });

/** One record's ticket: a small object per call, no closures (it lives until its batch is written). */
class Ticket implements SpoolTicket {
  private settled = false;

  constructor(
    private readonly segment: Segment,
    private readonly onDone: (segment: Segment) => void,
  ) {}

  done(): void {
    if (this.settled) return;
    this.settled = true;
    this.segment.pending--;
    this.onDone(this.segment);
  }
}

/** One segment file, appended to through one descriptor. */
class Segment {
  readonly openedAt = Date.now();
  bytes = 0;
  pending = 0;
  dirty = false;
  private fd: number | null;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  write(line: string, sync: boolean): void {
    if (this.fd === null) throw new Error(`segment ${this.path} is closed`);
    this.bytes += writeSync(this.fd, line);
    if (sync) fdatasyncSync(this.fd);
    else this.dirty = true;
  }

  syncInBackground(): void {
    if (this.fd === null) return;
    this.dirty = false;
    fdatasync(this.fd, () => undefined);
  }

  /** As `close`, the sync (when asked) on the thread pool; the descriptor closes after it. */
  closeInBackground(sync: boolean): void {
    const fd = this.fd;
    if (fd === null) return;
    this.fd = null;
    const release = (): void => closeFd(fd, () => undefined);
    if (sync && this.dirty) fdatasync(fd, release);
    else release();
  }

  close(sync: boolean): void {
    if (this.fd === null) return;
    try {
      if (sync && this.dirty) fdatasyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(dir, name));
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
