// Preloaded into the Tollgate process by the bench (`node --import bench/tools/eld-preload.mjs`):
// measures event-loop delay, i.e. how long ready work waits because something synchronous
// (a SQLite write, a big JSON.stringify, GC) holds the thread. SIGUSR2 toggles a window: the
// first signal resets the histogram, the second writes the window's figures as JSON to
// `${ELD_OUT}.<pid>.<window number>`.
// Costs one 1 ms libuv timer; changes nothing else in the process.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

const out = process.env.ELD_OUT;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let open = false;
  let windows = 0;
  process.on('SIGUSR2', () => {
    if (!open) {
      h.reset();
      open = true;
      return;
    }
    open = false;
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    writeFileSync(
      `${out}.${process.pid}.${windows++}`,
      JSON.stringify({
        p50_ms: ms(h.percentile(50)),
        p99_ms: ms(h.percentile(99)),
        max_ms: ms(h.max),
        mean_ms: ms(h.mean),
        count: h.count,
      }),
    );
  });
}
