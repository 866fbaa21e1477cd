import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_SLOTS = 64;
const LOCK = 'LOCK';
/** Slots held in this process (two gateways in one process must not share one; the pid cannot tell them apart). */
const heldHere = new Set<string>();

/** A slot directory this process holds (its pid in `LOCK`). */
export interface SpoolSlot {
  readonly dir: string;
  /** Gives the slot up (removes the lock). */
  release(): void;
}

/**
 * The spool root holds one slot per running process (`slot-0`, `slot-1`, …), so replicas that
 * share a working directory never write into each other's files. A slot is free when its lock
 * is missing or names a process that is not running (it died: its segments are to be replayed).
 */
export function acquireSlot(root: string): SpoolSlot {
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < MAX_SLOTS; i++) {
    const dir = join(root, `slot-${i}`);
    mkdirSync(dir, { recursive: true });
    if (tryLock(dir)) return { dir, release: () => unlock(dir) };
  }
  throw new Error(`every one of the ${MAX_SLOTS} spool slots in ${root} is held by a running process`);
}

/** Slots under `root` held by no running process (not `own`): a dead replica's, to replay and empty. */
export function abandonedSlots(root: string, own: SpoolSlot): SpoolSlot[] {
  const found: SpoolSlot[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!/^slot-\d+$/.test(name) || dir === own.dir) continue;
    if (tryLock(dir)) found.push({ dir, release: () => unlock(dir) });
  }
  return found;
}

/**
 * Takes the slot when its lock is free, names a process that is not running, or names this
 * process's pid without this process holding it (a restarted container reuses the dead one's pid).
 */
function tryLock(dir: string): boolean {
  if (heldHere.has(dir)) return false;
  const lock = join(dir, LOCK);
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number(readFileSync(lock, 'utf8').trim());
    if (holder !== process.pid && isRunning(holder)) return false;
    writeFileSync(lock, String(process.pid));
  }
  heldHere.add(dir);
  return true;
}

function unlock(dir: string): void {
  if (!heldHere.delete(dir)) return;
  try {
    const lock = join(dir, LOCK);
    if (Number(readFileSync(lock, 'utf8').trim()) === process.pid) unlinkSync(lock);
  } catch {
    // already gone
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
