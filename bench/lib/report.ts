// Turns raw runs and the probe into the summary rows, the target verdicts and the markdown.
import type { Mode, TargetName } from './config.js';
import type { LoadResult } from './loadgen.js';
import { median } from './stats.js';

export interface RunRecord extends LoadResult {
  target: TargetName;
  mode: Mode;
  conc: number;
  rep: number;
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
    const k = `${r.mode}|${r.conc}|${r.target}`;
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
    const floor = rows.find((x) => x.mode === r.mode && x.conc === r.conc && x.target === 'floor');
    if (floor && r.target !== 'floor') r.ratioFloor = r.rps / floor.rps;
    if (r.target === 'floor') r.ratioFloor = 1;
  }
  const order: Record<TargetName, number> = { direct: 0, floor: 1, tollgate: 2 };
  rows.sort((a, b) => a.mode.localeCompare(b.mode) || a.conc - b.conc || order[a.target] - order[b.target]);
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

export function verdicts(rows: Row[], probe: Probe | null, errorsTotal: number, reuse: Reuse = {}): Verdict[] {
  const out: Verdict[] = [];
  for (const mode of ['json', 'sse'] as Mode[]) {
    const t = rows.find((r) => r.mode === mode && r.conc === 32 && r.target === 'tollgate');
    const fl = rows.find((r) => r.mode === mode && r.conc === 32 && r.target === 'floor');
    if (t && fl) {
      const cpuRatio = t.cpuUsPerReq && fl.cpuUsPerReq ? fl.cpuUsPerReq / t.cpuUsPerReq : null;
      out.push({
        what: `${mode.toUpperCase()} req/s at c=32, Tollgate ÷ floor`,
        measured: `${f(t.ratioFloor)} (${t.rps.toFixed(0)} ÷ ${fl.rps.toFixed(0)}); by CPU per request ${f(cpuRatio)} (${f(fl.cpuUsPerReq, 0)} ÷ ${f(t.cpuUsPerReq, 0)} µs)${fl.loadgenBound ? '; floor run was load-generator bound' : ''}`,
        target: '≥ 0.50',
        pass: t.ratioFloor! >= 0.5,
      });
    }
  }
  if (probe) {
    const tj = added(probe, 'json', 'tollgate');
    const fj = added(probe, 'json', 'floor');
    if (tj && fj) {
      out.push({
        what: 'added p50 at c=1 (JSON), Tollgate − floor',
        measured: `${signed(tj.p50 - fj.p50, 3)} ms (Tollgate ${signed(tj.p50, 3)}, floor ${signed(fj.p50, 3)} vs direct)`,
        target: '≤ +0.300 ms',
        pass: tj.p50 - fj.p50 <= 0.3,
      });
    }
    for (const mode of ['sse', 'sse-paced'] as const) {
      const ts = added(probe, mode, 'tollgate');
      const fs = added(probe, mode, 'floor');
      if (ts?.ttftP50 != null && fs?.ttftP50 != null) {
        const what =
          mode === 'sse'
            ? 'added time to first token (first SSE content chunk, p50, c=1), Tollgate − floor'
            : `same with an upstream that pauses after its first token (holding it back would add about the pause)`;
        out.push({
          what,
          measured: `${signed(ts.ttftP50 - fs.ttftP50, 3)} ms (Tollgate ${signed(ts.ttftP50, 3)}, floor ${signed(fs.ttftP50, 3)} vs direct)`,
          target: '≤ +0.300 ms (no added delay)',
          pass: ts.ttftP50 - fs.ttftP50 <= 0.3,
        });
      }
    }
    const tr = added(probe, 'sse-role-paused', 'tollgate');
    const fr = added(probe, 'sse-role-paused', 'floor');
    if (tr?.ttfbP50 != null && fr?.ttfbP50 != null) {
      out.push({
        what: 'informational: added time to first byte when the upstream pauses after its role-only opening chunk, Tollgate − floor',
        measured: `${signed(tr.ttfbP50 - fr.ttfbP50, 3)} ms (first token: ${signed((tr.ttftP50 ?? NaN) - (fr.ttftP50 ?? NaN), 3)} ms)`,
        target: '— (a gateway that holds content-less opening chunks shows the pause here)',
        pass: null,
      });
    }
  }
  const tr = reuse.tollgate;
  if (tr) {
    const fl = reuse.floor;
    out.push({
      what: `upstream keep-alive for streams: connections opened for ${tr.streams} sequential streams when the upstream's end-of-body follows [DONE] in its own packet`,
      measured: `Tollgate ${tr.connections}, floor ${fl?.connections ?? '—'}, direct ${reuse.direct?.connections ?? '—'}`,
      target: '≤ 2 (connections reused)',
      pass: tr.connections <= 2,
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
  md += '**Targets**\n\n| check | measured | target | verdict |\n|---|---|---|---|\n';
  for (const v of vs)
    md += `| ${v.what} | ${v.measured} | ${v.target} | ${v.pass === null ? '—' : v.pass ? 'PASS' : '**MISS**'} |\n`;
  md += '\n**Throughput and latency under load** (closed loop; for SSE one request = one whole 25-chunk stream)\n\n';
  md +=
    '| mode | conc | target | req/s | ÷ floor | p50 ms | p99 ms | server CPU (cores) | CPU µs/req | event-loop delay p99 / max ms | peak RSS MB | new upstream conns | errors | noise |\n';
  md += '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const spread = r.n > 1 ? ` (${r.rpsMin.toFixed(0)}–${r.rpsMax.toFixed(0)})` : '';
    const noise = [
      r.foreignMax > 0.1 ? `other jobs ${r.foreignMax.toFixed(2)} cores` : '',
      r.loadgenBound ? 'load-gen core saturated' : '',
    ]
      .filter(Boolean)
      .join('; ');
    md += `| ${r.mode} | ${r.conc} | ${r.target === 'direct' ? 'direct (mock)' : r.target} | ${r.rps.toFixed(0)}${spread} | ${r.target === 'direct' ? '—' : f(r.ratioFloor)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.serverCpuCores)}${r.target === 'direct' ? ' (mock)' : ''} | ${f(r.cpuUsPerReq, 0)} | ${r.loopDelayP99Ms === null ? '—' : `${f(r.loopDelayP99Ms, 1)} / ${f(r.loopDelayMaxMs, 0)}`} | ${r.target === 'direct' ? '—' : f(r.rssPeakMb, 0)} | ${r.upstreamConns ?? '—'} | ${r.errors} | ${noise || 'ok'} |\n`;
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
