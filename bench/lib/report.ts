// Turns raw runs and the probe into the summary rows, the target verdicts and the markdown.
import type { Mode, TargetName } from './config.js';
import type { LoadResult } from './loadgen.js';
import { median } from './stats.js';

export interface RunRecord extends LoadResult {
  target: TargetName;
  mode: Mode;
  conc: number;
  rep: number;
  /** `std` (the 330-byte request, the 25-frame stream), `body N KB` or `500 frames`. */
  variant: string;
  errors: number;
  /** CPU of the process serving the target (the mock for `direct`), in cores. */
  serverCpuCores: number | null;
  cpuUsPerReq: number | null;
  rssPeakMb: number | null;
  loadgenCpuBusy: number | null;
  gwCpuBusy: number | null;
  foreignCores: number;
  foreignTop: string[];
  quietWaitS: number;
  /** Event-loop delay of the serving process during the run (floor and Tollgate only). */
  loopDelayP99Ms: number | null;
  loopDelayMaxMs: number | null;
  /** TCP connections the upstream accepted during the run (canned mock only). */
  upstreamConns: number | null;
  upstreamRequests: number | null;
  /** The load generator's core was saturated while the target's core was not. */
  loadgenBound: boolean;
}

export interface Row {
  mode: Mode;
  conc: number;
  target: TargetName;
  variant: string;
  n: number;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuCores: number | null;
  cpuUsPerReq: number | null;
  rssPeakMb: number | null;
  errors: number;
  foreignMax: number;
  loadgenBound: boolean;
  ratioFloor: number | null;
  upstreamConns: number | null;
  loopDelayP99Ms: number | null;
  loopDelayMaxMs: number | null;
}

type ProbeStats = {
  n: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  ttfb_p50_ms?: number;
  ttfb_p99_ms?: number;
  ttft_p50_ms?: number;
  ttft_p99_ms?: number;
};
export type ProbeMode = 'json' | 'sse' | 'sse-paced' | 'sse-role-paused';
export type Probe = Partial<Record<ProbeMode, Partial<Record<TargetName, ProbeStats>>>>;

export interface Verdict {
  what: string;
  measured: string;
  target: string;
  pass: boolean | null;
}

const med = (xs: (number | null)[]): number | null => median(xs.filter((x): x is number => x !== null));

export function summarize(runs: RunRecord[]): Row[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = `${r.mode}|${r.conc}|${r.target}|${r.variant}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const rows: Row[] = [];
  for (const rs of groups.values()) {
    const r0 = rs[0]!;
    const rss = rs.map((r) => r.rssPeakMb).filter((x): x is number => x !== null);
    rows.push({
      mode: r0.mode,
      conc: r0.conc,
      target: r0.target,
      variant: r0.variant,
      n: rs.length,
      rps: med(rs.map((r) => r.rps))!,
      rpsMin: Math.min(...rs.map((r) => r.rps)),
      rpsMax: Math.max(...rs.map((r) => r.rps)),
      p50Ms: med(rs.map((r) => r.p50Ms))!,
      p99Ms: med(rs.map((r) => r.p99Ms))!,
      serverCpuCores: med(rs.map((r) => r.serverCpuCores)),
      cpuUsPerReq: med(rs.map((r) => r.cpuUsPerReq)),
      rssPeakMb: rss.length ? Math.max(...rss) : null,
      errors: rs.reduce((a, r) => a + r.errors, 0),
      foreignMax: Math.max(...rs.map((r) => r.foreignCores)),
      loadgenBound: rs.some((r) => r.loadgenBound),
      ratioFloor: null,
      upstreamConns: med(rs.map((r) => r.upstreamConns)),
      loopDelayP99Ms: med(rs.map((r) => r.loopDelayP99Ms)),
      loopDelayMaxMs: rs.some((r) => r.loopDelayMaxMs !== null)
        ? Math.max(...rs.map((r) => r.loopDelayMaxMs ?? 0))
        : null,
    });
  }
  for (const r of rows) {
    const floor = rows.find(
      (x) => x.mode === r.mode && x.conc === r.conc && x.variant === r.variant && x.target === 'floor',
    );
    if (floor && r.target !== 'floor') r.ratioFloor = r.rps / floor.rps;
    if (r.target === 'floor') r.ratioFloor = 1;
  }
  const order: Record<TargetName, number> = { direct: 0, floor: 1, tollgate: 2 };
  const vOrder = (v: string): number => (v === 'std' ? 0 : v.startsWith('body ') ? Number(v.split(' ')[1]) : 1e6);
  rows.sort(
    (a, b) =>
      vOrder(a.variant) - vOrder(b.variant) ||
      a.mode.localeCompare(b.mode) ||
      a.conc - b.conc ||
      order[a.target] - order[b.target],
  );
  return rows;
}

const f = (x: number | null | undefined, d = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);
const signed = (x: number | null | undefined, d = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : (x >= 0 ? '+' : '') + x.toFixed(d);

const diff = (x: number | undefined, y: number | undefined): number | null =>
  x === undefined || y === undefined || x === null || y === null ? null : x - y;

/** Added latency of `target` over direct in one probe mode (p50/p99; first byte and first token for streams). */
export function added(probe: Probe, mode: ProbeMode, target: TargetName) {
  const d = probe[mode]?.direct;
  const t = probe[mode]?.[target];
  if (!d || !t) return null;
  return {
    p50: t.p50_ms - d.p50_ms,
    p99: t.p99_ms - d.p99_ms,
    ttfbP50: diff(t.ttfb_p50_ms, d.ttfb_p50_ms),
    ttfbP99: diff(t.ttfb_p99_ms, d.ttfb_p99_ms),
    ttftP50: diff(t.ttft_p50_ms, d.ttft_p50_ms),
    ttftP99: diff(t.ttft_p99_ms, d.ttft_p99_ms),
  };
}

export type Reuse = Partial<Record<TargetName, { streams: number; connections: number; ok: number }>>;

const find = (rows: Row[], mode: Mode, conc: number, target: TargetName, variant = 'std'): Row | undefined =>
  rows.find((r) => r.mode === mode && r.conc === conc && r.target === target && r.variant === variant);

export interface Slope {
  /** What the slope is taken over, e.g. "body 1 KB → 256 KB". */
  between: string;
  /** Extra units between the two rows (KB of body, SSE frames). */
  units: number;
  floor: number | null;
  tollgate: number | null;
  /** Tollgate's slope ÷ the floor's; null when the floor's is not positive (noise). */
  ratio: number | null;
}

/**
 * Added CPU per extra KB of request body and per extra SSE frame: the slope of CPU µs per
 * request between the smallest and the largest row (c=32), per target.
 */
export function sizeSlopes(rows: Row[]): { kb: Slope | null; frame: Slope | null } {
  const slope = (a: Row | undefined, b: Row | undefined, units: number): number | null =>
    a?.cpuUsPerReq != null && b?.cpuUsPerReq != null ? (b.cpuUsPerReq - a.cpuUsPerReq) / units : null;
  const make = (between: string, units: number, pick: (t: TargetName) => [Row | undefined, Row | undefined]): Slope => {
    const fl = slope(...pick('floor'), units);
    const tg = slope(...pick('tollgate'), units);
    return { between, units, floor: fl, tollgate: tg, ratio: fl !== null && tg !== null && fl > 0 ? tg / fl : null };
  };
  const kbs = [
    ...new Set(rows.filter((r) => r.variant.startsWith('body ')).map((r) => Number(r.variant.split(' ')[1]))),
  ].sort((a, b) => a - b);
  const kb =
    kbs.length >= 2
      ? make(`body ${kbs[0]} KB → ${kbs.at(-1)} KB`, kbs.at(-1)! - kbs[0]!, (t) => [
          find(rows, 'json', 32, t, `body ${kbs[0]} KB`),
          find(rows, 'json', 32, t, `body ${kbs.at(-1)} KB`),
        ])
      : null;
  const frame = rows.some((r) => r.variant === '500 frames')
    ? make('stream 25 → 500 frames', 475, (t) => [find(rows, 'sse', 32, t), find(rows, 'sse', 32, t, '500 frames')])
    : null;
  return { kb, frame };
}

const notMeasured = (what: string, target: string, why: string): Verdict => ({
  what,
  measured: `not measured (${why})`,
  target,
  pass: null,
});

/**
 * The summary table: issue 8's checks and targets, in its order, each with the measured value
 * and pass / miss (— when the run did not measure it, e.g. BENCH_QUICK has no c=1 or c=256 rows).
 */
export function verdicts(
  rows: Row[],
  probe: Probe | null,
  errorsTotal: number,
  reuse: Reuse = {},
  idleRssMb: Partial<Record<TargetName, number | null>> = {},
): Verdict[] {
  const out: Verdict[] = [];
  const perCpu = (t: Row, fl: Row): string =>
    `by CPU per request ${f(t.cpuUsPerReq && fl.cpuUsPerReq ? fl.cpuUsPerReq / t.cpuUsPerReq : null)}`;
  const bound = (fl: Row): string => (fl.loadgenBound ? '; floor run was load-generator bound' : '');

  for (const [mode, conc, target] of [
    ['json', 32, '≥ 0.70 (stretch 0.85)'],
    ['sse', 32, '≥ 0.70'],
    ['json', 256, '≥ 0.70, 0 errors'],
  ] as const) {
    const what = `${mode === 'json' ? 'JSON req/s' : 'SSE streams/s'} at c=${conc}, Tollgate ÷ floor${conc === 256 ? ', errors' : ''}`;
    const t = find(rows, mode, conc, 'tollgate');
    const fl = find(rows, mode, conc, 'floor');
    if (!t || !fl) {
      out.push(notMeasured(what, target, `no c=${conc} ${mode} rows`));
      continue;
    }
    out.push({
      what,
      measured: `${f(t.ratioFloor)} (${t.rps.toFixed(0)} ÷ ${fl.rps.toFixed(0)}); ${perCpu(t, fl)}${conc === 256 ? `; ${t.errors} errors` : ''}${bound(fl)}`,
      target,
      pass: t.ratioFloor! >= 0.7 && (conc !== 256 || t.errors === 0),
    });
  }

  for (const mode of ['json', 'sse'] as const) {
    const what = `CPU µs per request at c=32 (${mode.toUpperCase()}), Tollgate ÷ floor`;
    const t = find(rows, mode, 32, 'tollgate');
    const fl = find(rows, mode, 32, 'floor');
    if (!t?.cpuUsPerReq || !fl?.cpuUsPerReq) {
      out.push(notMeasured(what, '≤ 1.4', `no c=32 ${mode} CPU figures`));
      continue;
    }
    const ratio = t.cpuUsPerReq / fl.cpuUsPerReq;
    out.push({
      what,
      measured: `${f(ratio)} (${f(t.cpuUsPerReq, 0)} ÷ ${f(fl.cpuUsPerReq, 0)} µs)`,
      target: '≤ 1.4',
      pass: ratio <= 1.4,
    });
  }

  const tj = probe ? added(probe, 'json', 'tollgate') : null;
  const fj = probe ? added(probe, 'json', 'floor') : null;
  if (tj && fj) {
    out.push({
      what: 'added p50 at c=1 (JSON), Tollgate − floor',
      measured: `${signed(tj.p50 - fj.p50, 3)} ms (Tollgate ${signed(tj.p50, 3)}, floor ${signed(fj.p50, 3)} vs direct)`,
      target: '≤ +0.200 ms',
      pass: tj.p50 - fj.p50 <= 0.2,
    });
  } else out.push(notMeasured('added p50 at c=1 (JSON), Tollgate − floor', '≤ +0.200 ms', 'no probe'));
  for (const mode of ['sse', 'sse-paced'] as const) {
    const what =
      mode === 'sse'
        ? 'added time to first token (first SSE content chunk, p50, c=1), Tollgate − floor'
        : `same with an upstream that pauses after its first token (holding it back would add about the pause)`;
    const ts = probe ? added(probe, mode, 'tollgate') : null;
    const fs = probe ? added(probe, mode, 'floor') : null;
    if (ts?.ttftP50 != null && fs?.ttftP50 != null) {
      out.push({
        what,
        measured: `${signed(ts.ttftP50 - fs.ttftP50, 3)} ms (Tollgate ${signed(ts.ttftP50, 3)}, floor ${signed(fs.ttftP50, 3)} vs direct)`,
        target: '≤ +0.200 ms (no added delay)',
        pass: ts.ttftP50 - fs.ttftP50 <= 0.2,
      });
    } else out.push(notMeasured(what, '≤ +0.200 ms (no added delay)', 'no probe'));
  }
  const tr = probe ? added(probe, 'sse-role-paused', 'tollgate') : null;
  const fr = probe ? added(probe, 'sse-role-paused', 'floor') : null;
  if (tr?.ttfbP50 != null && fr?.ttfbP50 != null) {
    out.push({
      what: 'informational: added time to first byte when the upstream pauses after its role-only opening chunk, Tollgate − floor',
      measured: `${signed(tr.ttfbP50 - fr.ttfbP50, 3)} ms (first token: ${signed((tr.ttftP50 ?? NaN) - (fr.ttftP50 ?? NaN), 3)} ms)`,
      target: '— (a gateway that holds content-less opening chunks shows the pause here)',
      pass: null,
    });
  }

  const slopes = sizeSlopes(rows);
  for (const [s, unit, what] of [
    [slopes.kb, 'KB', 'added CPU per extra KB of request body (JSON, c=32), Tollgate ÷ floor'],
    [slopes.frame, 'frame', 'added CPU per extra SSE frame (c=32), Tollgate ÷ floor'],
  ] as const) {
    if (!s || s.tollgate === null || s.floor === null) {
      out.push(notMeasured(what, '≤ 2', 'no size rows'));
      continue;
    }
    out.push({
      what,
      measured: `${f(s.ratio)} (Tollgate ${f(s.tollgate)} ÷ floor ${f(s.floor)} µs per ${unit}; ${s.between})${s.ratio === null ? "; the floor's slope is not positive (noise)" : ''}`,
      target: '≤ 2',
      pass: s.ratio === null ? null : s.ratio <= 2,
    });
  }

  const idle = idleRssMb.tollgate;
  out.push(
    idle == null
      ? notMeasured('Tollgate RSS idle (after start-up)', '≤ 80 MB', 'no /proc')
      : {
          what: 'Tollgate RSS idle (after start-up)',
          measured: `${f(idle, 0)} MB (floor ${f(idleRssMb.floor, 0)} MB)`,
          target: '≤ 80 MB',
          pass: idle <= 80,
        },
  );
  const peak = rows.filter((r) => r.target === 'tollgate' && r.conc === 256 && r.variant === 'std');
  const peakMb = peak.length ? Math.max(...peak.map((r) => r.rssPeakMb ?? 0)) : null;
  const floorPeak = rows.filter((r) => r.target === 'floor' && r.conc === 256 && r.variant === 'std');
  out.push(
    peakMb === null
      ? notMeasured('Tollgate peak RSS at c=256 (JSON and SSE)', '≤ 160 MB', 'no c=256 rows')
      : {
          what: 'Tollgate peak RSS at c=256 (JSON and SSE)',
          measured: `${f(peakMb, 0)} MB (floor ${f(floorPeak.length ? Math.max(...floorPeak.map((r) => r.rssPeakMb ?? 0)) : null, 0)} MB)`,
          target: '≤ 160 MB',
          pass: peakMb <= 160,
        },
  );

  const reused = reuse.tollgate;
  if (reused) {
    const fl = reuse.floor;
    out.push({
      what: `upstream keep-alive for streams: connections opened for ${reused.streams} sequential streams when the upstream's end-of-body follows [DONE] in its own packet`,
      measured: `Tollgate ${reused.connections}, floor ${fl?.connections ?? '—'}, direct ${reuse.direct?.connections ?? '—'}`,
      target: '≤ 2 (connections reused)',
      pass: reused.connections <= 2,
    });
  }
  out.push({
    what: 'errors (non-2xx, socket errors, timeouts) during measured runs',
    measured: String(errorsTotal),
    target: '0',
    pass: errorsTotal === 0,
  });
  return out;
}

export interface Meta {
  date: string;
  host: string;
  node: string;
  loadgen: string;
  upstream: string;
  pinning: string;
  durationS: number;
  reps: number;
  probeN: number;
  probePacedN: number;
  pacedGapMs: number;
  idleRssMb: Partial<Record<TargetName, number | null>>;
  evidence: string[];
}

export function markdown(meta: Meta, rows: Row[], probe: Probe | null, vs: Verdict[]): string {
  let md = `**Run** ${meta.date} · ${meta.host} · Node ${meta.node} · load generator **${meta.loadgen}** · upstream **${meta.upstream}** · ${meta.pinning} · ${meta.durationS} s per run × ${meta.reps} rep(s), medians\n\n`;
  md +=
    '**Summary: the checks of issue 8** (Tollgate authenticates every call by a virtual key, one hard budget applies, ledger and access log on; ratios against the floor in this run)\n\n| check | measured | target | verdict |\n|---|---|---|---|\n';
  for (const v of vs)
    md += `| ${v.what} | ${v.measured} | ${v.target} | ${v.pass === null ? '—' : v.pass ? 'PASS' : '**MISS**'} |\n`;
  md += '\n**Throughput and latency under load** (closed loop; for SSE one request = one whole 25-chunk stream)\n\n';
  md +=
    '| mode | conc | target | req/s | ÷ floor | p50 ms | p99 ms | server CPU (cores) | CPU µs/req | event-loop delay p99 / max ms | peak RSS MB | new upstream conns | errors | noise |\n';
  md += '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  const noiseOf = (r: Row): string =>
    [
      r.foreignMax > 0.1 ? `other jobs ${r.foreignMax.toFixed(2)} cores` : '',
      r.loadgenBound ? 'load-gen core saturated' : '',
    ]
      .filter(Boolean)
      .join('; ') || 'ok';
  for (const r of rows) {
    if (r.variant !== 'std') continue;
    const spread = r.n > 1 ? ` (${r.rpsMin.toFixed(0)}–${r.rpsMax.toFixed(0)})` : '';
    const noise = noiseOf(r);
    md += `| ${r.mode} | ${r.conc} | ${r.target === 'direct' ? 'direct (mock)' : r.target} | ${r.rps.toFixed(0)}${spread} | ${r.target === 'direct' ? '—' : f(r.ratioFloor)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.serverCpuCores)}${r.target === 'direct' ? ' (mock)' : ''} | ${f(r.cpuUsPerReq, 0)} | ${r.loopDelayP99Ms === null ? '—' : `${f(r.loopDelayP99Ms, 1)} / ${f(r.loopDelayMaxMs, 0)}`} | ${r.target === 'direct' ? '—' : f(r.rssPeakMb, 0)} | ${r.upstreamConns ?? '—'} | ${r.errors} | ${noise} |\n`;
  }
  const sized = rows.filter((r) => r.variant !== 'std' || (r.mode === 'sse' && r.conc === 32 && r.target !== 'direct'));
  if (sized.some((r) => r.variant !== 'std')) {
    md +=
      '\n**Request body size and stream length** (c=32, closed loop; JSON with the user message padded to the body size; SSE with 25 or 500 data frames)\n\n';
    md +=
      '| row | target | req/s | ÷ floor | p50 ms | p99 ms | server CPU (cores) | CPU µs/req | event-loop delay p99 / max ms | peak RSS MB | errors | noise |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n';
    const label = (r: Row): string =>
      r.mode === 'json' ? `JSON, ${r.variant}` : `SSE, ${r.variant === 'std' ? '25 frames' : r.variant}`;
    // rows are sorted by variant (std, body sizes ascending, 500 frames), then target.
    const ordered = [...sized].sort((a, b) => a.mode.localeCompare(b.mode) || rows.indexOf(a) - rows.indexOf(b));
    for (const r of ordered)
      md += `| ${label(r)} | ${r.target} | ${r.rps.toFixed(0)} | ${f(r.ratioFloor)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.serverCpuCores)} | ${f(r.cpuUsPerReq, 0)} | ${r.loopDelayP99Ms === null ? '—' : `${f(r.loopDelayP99Ms, 1)} / ${f(r.loopDelayMaxMs, 0)}`} | ${f(r.rssPeakMb, 0)} | ${r.errors} | ${noiseOf(r)} |\n`;
    const { kb, frame } = sizeSlopes(rows);
    for (const [sl, unit] of [
      [kb, 'KB of request body'],
      [frame, 'SSE frame'],
    ] as const) {
      if (sl)
        md += `\nAdded CPU µs per extra ${unit} (${sl.between}, slope of CPU µs/req): floor **${f(sl.floor)}**, Tollgate **${f(sl.tollgate)}**, Tollgate ÷ floor **${f(sl.ratio)}**.\n`;
    }
  }
  if (probe) {
    md += `\n**Concurrency 1** (sequential, round-robin across targets; ${meta.probeN} requests per target for json/sse, ${meta.probePacedN} for the paced modes, whose upstream pauses ${meta.pacedGapMs} ms after its first token (sse-paced) or after its role-only opening chunk (sse-role-paused); "added" = minus direct)\n\n`;
    md +=
      '| mode | target | p50 ms | p99 ms | added p50 | added p99 | first byte p50 ms | added first byte p50 | first token p50 ms | added first token p50 | added first token p99 | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n';
    for (const mode of ['json', 'sse', 'sse-paced', 'sse-role-paused'] as const) {
      for (const t of ['direct', 'floor', 'tollgate'] as TargetName[]) {
        const s = probe[mode]?.[t];
        if (!s) continue;
        const a = t === 'direct' ? null : added(probe, mode, t);
        md += `| ${mode} | ${t} | ${f(s.p50_ms, 3)} | ${f(s.p99_ms, 3)} | ${a ? signed(a.p50, 3) : '—'} | ${a ? signed(a.p99, 3) : '—'} | ${f(s.ttfb_p50_ms, 3)} | ${a ? signed(a.ttfbP50, 3) : '—'} | ${f(s.ttft_p50_ms, 3)} | ${a ? signed(a.ttftP50, 3) : '—'} | ${a ? signed(a.ttftP99, 3) : '—'} | ${s.errors} |\n`;
      }
    }
  }
  const idle = Object.entries(meta.idleRssMb)
    .map(([k, v]) => `${k} ${f(v, 0)} MB`)
    .join(', ');
  md += `\nIdle RSS after start-up: ${idle}.\n`;
  for (const e of meta.evidence) md += `\n${e}\n`;
  return md;
}
