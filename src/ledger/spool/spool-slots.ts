import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
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
 * Safe against processes starting at once (the workers of one `serve --workers N`): a lock
 * appears with its pid already in it (written aside, then linked into place), and a dead
 * holder's lock is taken over only by the one process that first marks it (`LOCK.took-<pid>`).
 */
function tryLock(dir: string): boolean {
  if (heldHere.has(dir)) return false;
  const lock = join(dir, LOCK);
  if (!placeLock(lock, (ready) => linkSync(ready, lock))) {
    const holder = readHolder(lock);
    if (holder === null) return false; // released meanwhile: the next scan may take it
    if (holder !== process.pid && isRunning(holder)) return false;
    // Only one process may replace a dead holder's lock: the one that marks it first. The mark
    // stays until the slot is released, so a process that read the same dead pid late fails here.
    if (!markTakeover(lock, holder)) return false;
    if (readHolder(lock) !== holder) {
      unlinkQuietly(takeoverMark(lock, holder));
      return false;
    }
    placeLock(lock, (ready) => renameSync(ready, lock));
    tookOver.set(dir, holder);
  }
  heldHere.add(dir);
  return true;
}

/** Dead holders whose lock this process replaced, by slot (their marks go when the slot is released). */
const tookOver = new Map<string, number>();

const takeoverMark = (lock: string, holder: number): string => `${lock}.took-${holder}`;

/** Marks the takeover of `holder`'s lock; a mark left by a taker that died before finishing is replaced once. */
function markTakeover(lock: string, holder: number): boolean {
  const mark = takeoverMark(lock, holder);
  if (placeLock(mark, (ready) => linkSync(ready, mark))) return true;
  const marker = readHolder(mark);
  if (marker === null || marker === process.pid || isRunning(marker)) return false;
  unlinkQuietly(mark);
  return placeLock(mark, (ready) => linkSync(ready, mark));
}

/**
 * Writes this pid to a file beside `target` and `place`s it (link: fails if `target` exists;
 * rename: replaces it), so no one ever reads a lock without its pid. False when it existed.
 */
function placeLock(target: string, place: (ready: string) => void): boolean {
  const ready = `${target}.${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(ready, String(process.pid));
  try {
    place(ready);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    unlinkQuietly(ready);
  }
}

/** The pid in a lock (0 for an unreadable one: a holder that cannot be running), or null when there is none. */
function readHolder(lock: string): number | null {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function unlock(dir: string): void {
  if (!heldHere.delete(dir)) return;
  const lock = join(dir, LOCK);
  try {
    if (Number(readFileSync(lock, 'utf8').trim()) === process.pid) unlinkSync(lock);
  } catch {
    // already gone
  }
  const holder = tookOver.get(dir);
  tookOver.delete(dir);
  if (holder !== undefined) unlinkQuietly(takeoverMark(lock, holder));
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
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
