import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

// Several workers of one `serve --workers N` start at once against one spool root: each must end
// up with a slot of its own, on an empty root and when every slot names a dead process.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SLOTS = fileURLToPath(new URL('./spool-slots.ts', import.meta.url));
const PROCESSES = 6;

/** A child that waits for `go`, takes a slot, prints it, and holds it until its stdin closes. */
const CHILD = `
import { existsSync } from 'node:fs';
const { acquireSlot } = await import(process.env.SLOTS);
process.stdout.write('ready\\n');
while (!existsSync(process.env.GO)) {}
const slot = acquireSlot(process.env.ROOT);
process.stdout.write('slot ' + slot.dir + '\\n');
process.stdin.resume();
process.stdin.on('end', () => { slot.release(); process.exit(0); });
`;

async function race(root: string): Promise<string[]> {
  const go = join(root, '..', `go-${Math.random()}`);
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      env: { ...process.env, SLOTS, ROOT: root, GO: go },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const outputs = children.map(() => '');
  const said = (i: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const child = children[i]!;
      const check = () => (outputs[i]!.includes(what) ? resolve() : undefined);
      child.stdout.on('data', (d: Buffer) => {
        outputs[i] += d.toString();
        check();
      });
      child.once('exit', (code) => reject(new Error(`child ${i} exited ${code}: ${outputs[i]}`)));
      check();
    });
  try {
    await Promise.all(children.map((_, i) => said(i, 'ready')));
    writeFileSync(go, '');
    await Promise.all(children.map((_, i) => said(i, 'slot ')));
    return outputs.map((out) => /slot (\S+)/.exec(out)![1]!);
  } finally {
    for (const child of children) child.stdin.end();
    await Promise.all(
      children.map((child) => new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))),
    );
    rmSync(go, { force: true });
  }
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '0']);
  return pid;
}

void describe('spool slots across processes starting at once', () => {
  void it('an empty root: every process gets a slot of its own', async () => {
    const base = mkdtempSync(join(tmpdir(), 'tollgate-slots-'));
    dirs.push(base);
    const root = join(base, 'spool');
    const slots = await race(root);
    assert.equal(new Set(slots).size, PROCESSES, slots.join('\n'));
    assert.deepEqual(
      readdirSync(root).flatMap((slot) => readdirSync(join(root, slot))),
      [],
      'released: no lock (or takeover mark) left',
    );
  });

  void it('every slot left by dead processes: each is taken over by exactly one', async () => {
    const base = mkdtempSync(join(tmpdir(), 'tollgate-slots-'));
    dirs.push(base);
    const root = join(base, 'spool');
    const dead = deadPid();
    for (let i = 0; i < PROCESSES; i++) {
      mkdirSync(join(root, `slot-${i}`), { recursive: true });
      writeFileSync(join(root, `slot-${i}`, 'LOCK'), String(dead));
    }
    const slots = await race(root);
    assert.equal(new Set(slots).size, PROCESSES, slots.join('\n'));
    assert.deepEqual(
      slots.map((slot) => slot.slice(root.length + 1)).sort(),
      Array.from({ length: PROCESSES }, (_, i) => `slot-${i}`),
      'the dead slots are reused, no new one made',
    );
    assert.deepEqual(
      readdirSync(root).flatMap((slot) => readdirSync(join(root, slot))),
      [],
      'released: no lock or takeover mark left',
    );
  });
});
