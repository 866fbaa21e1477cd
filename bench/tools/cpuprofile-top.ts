// Summarises a V8 .cpuprofile (node --cpu-prof) for the gateway: where the CPU goes by area
// (Tollgate source file, npm package, node: internal, GC), the top functions by self time,
// Tollgate's functions by inclusive time, and every sample charged to the nearest Tollgate
// frame on its stack ("what our call sites cost, including the libraries they call").
// Percentages are of non-idle samples. Same method as shared/bench/peer/cpuprofile-top.cjs.
//
//   node --import tsx bench/tools/cpuprofile-top.ts file.cpuprofile [topN]
//   node --import tsx bench/tools/cpuprofile-top.ts file.cpuprofile --callers 'AbortError' [depth]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

const SRC_MARK = '/src/';

/** The build (`npm run bench` profiles dist/): mapped back to src/ through tsc's source maps. */
const DIST_MARK = '/dist/';
function isOurs(url: string): boolean {
  return (url.includes(SRC_MARK) || url.includes(DIST_MARK)) && !url.includes('node_modules');
}
function srcPath(url: string): string {
  if (!url.includes(SRC_MARK))
    return 'src/' + url.slice(url.lastIndexOf(DIST_MARK) + DIST_MARK.length).replace(/\.js$/, '.ts');
  return 'src/' + url.slice(url.lastIndexOf(SRC_MARK) + SRC_MARK.length);
}
function area(cf: CallFrame): string {
  const { url, functionName } = cf;
  if (!url) return functionName.startsWith('(') ? functionName : '(native/builtin)';
  if (url.startsWith('node:internal/')) return 'node:internal/' + url.slice(14).split('/')[0];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (isOurs(url)) return srcPath(url);
  return url.split('/').slice(-1)[0]!;
}
/**
 * The build (dist/) has tsc's source maps beside each file. From the sources, Tollgate runs its
 * TypeScript through tsx, which transpiles every file with esbuild
 * (whitespace minified: the profile's line numbers are all 1). Transpiling the same file with
 * the same options gives byte-identical code and its source map, so a profile position maps
 * back to the line in the .ts file. Null when that is not possible (file changed, no esbuild).
 */
const maps = new Map<string, SourceMap | null>();
function originalLine(cf: CallFrame): number | null {
  if (!maps.has(cf.url)) {
    let map: SourceMap | null;
    try {
      const file = cf.url.startsWith('file:') ? fileURLToPath(cf.url) : cf.url;
      if (file.includes(DIST_MARK) && !file.includes(SRC_MARK)) {
        maps.set(
          cf.url,
          new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]),
        );
        return originalLine(cf);
      }
      const r = transformSync(readFileSync(file, 'utf8'), {
        target: `node${process.versions.node}`,
        loader: file.endsWith('.tsx') ? 'tsx' : 'ts',
        sourcemap: true,
        sourcesContent: false,
        minifyWhitespace: true,
        keepNames: true,
        format: 'esm',
        sourcefile: file,
      });
      map = new SourceMap(JSON.parse(r.map) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
    maps.set(cf.url, map);
  }
  const map = maps.get(cf.url);
  if (!map) return null;
  const entry = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalLine?: number };
  return entry.originalLine === undefined ? null : entry.originalLine + 1;
}

function label(cf: CallFrame): string {
  if (isOurs(cf.url)) {
    const line = originalLine(cf);
    return `${cf.functionName || '(anonymous)'}  [${srcPath(cf.url)}:${line ?? `?(generated ${cf.lineNumber + 1}:${cf.columnNumber + 1})`}]`;
  }
  return `${cf.functionName || '(anonymous)'}  [${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}]`;
}

/**
 * Cost centres for a gateway request, first match wins walking from the sampled frame up the
 * stack (so a socket write under the access logger counts as logging, JSON.parse under the
 * provider as upstream client). Patterns are tested against `functionName url`.
 */
export const BUCKETS: [string, RegExp][] = [
  [
    'access log (pino, sonic-boom, redaction)',
    /observability\/access-log|node_modules\/(pino|sonic-boom|@pinojs|fast-redact|pino-std-serializers)\//,
  ],
  [
    'ledger (kysely, better-sqlite3, row mapping)',
    /src\/accounting\/|src\/storage\/|node_modules\/(kysely|better-sqlite3)\//,
  ],
  ['request validation (zod)', /core\/validate-request|node_modules\/zod\//],
  ['SSE relay (frame, serialize, hold)', /server\/sse\.ts|server\/stream-response\.ts/],
  ['upstream SSE parsing (read-sse, eventsource-parser)', /read-sse\.ts|eventsource-parser/],
  [
    'settle, call summary, usage estimate',
    /policies\/settle|call-summary|estimate-usage|accounting\/tokens|gpt-tokenizer/,
  ],
  ['socket writes (writev)', /^(writev|writeBuffer|writeUtf8String|writeLatin1String) |stream_base_commons/],
  ['AbortController / AbortSignal / EventTarget', /abort_controller|event_target|AbortError|prepare_stack_trace/],
  [
    'upstream client (undici, llhttp, provider, JSON.parse of the answer)',
    /node_modules\/undici\/|wasm|src\/providers\//,
  ],
  [
    'fastify (routing, hooks, reply, serializer)',
    /node_modules\/(fastify|find-my-way|avvio|@fastify|fast-json-stringify|light-my-request|abstract-logging|process-warning|toad-cache|rfdc|secure-json-parse)/,
  ],
  ['node:http server (parse, headers)', /node:_http_|node:internal\/http/],
  ['routing, pipeline, context (other Tollgate code)', /\/src\//],
  [
    'node streams, events, timers, nextTick',
    /node:(internal\/streams|events|internal\/process|internal\/timers|net|buffer)/,
  ],
  ['garbage collector', /^\(garbage collector\)/],
];

export interface Summary {
  totalMs: number;
  /** Cost centres (BUCKETS), share of non-idle time. */
  buckets: [string, number][];
  /** Per cost centre, its heaviest functions by self time. */
  bucketTop: Map<string, [string, number][]>;
  byArea: [string, number][];
  topSelf: [string, number][];
  oursInclusive: [string, number][];
  chargedToOurs: [string, number][];
  /** Share (0..1) of non-idle time whose stack has at least one Tollgate frame. */
  underOurs: number;
}

/**
 * `window`: only samples taken between these two monotonic times (µs, the clock of
 * `process.hrtime`, which V8's profile timestamps share), e.g. the measured load run.
 */
export function summarize(prof: Profile, topN = 25, window?: { fromUs: number; toUs: number }): Summary {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfById = new Map<number, number>();
  let at = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const id = prof.samples[i]!;
    selfById.set(id, (selfById.get(id) ?? 0) + dt);
  }
  const add = (m: Map<string, number>, k: string, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const charged = new Map<string, number>();
  const buckets = new Map<string, number>();
  const bucketFns = new Map<string, Map<string, number>>();
  const bucketOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = bucketOf.get(id);
    if (known) return known;
    let found = 'other (native, program, runtime)';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const key = `${cf.functionName} ${cf.url}`;
      const hit = BUCKETS.find(([, re]) => re.test(key));
      if (hit) {
        found = hit[0];
        break;
      }
    }
    bucketOf.set(id, found);
    return found;
  };
  let total = 0;
  let under = 0;
  for (const [id, us] of selfById) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    total += us;
    const b = classify(id);
    add(buckets, b, us);
    if (!bucketFns.has(b)) bucketFns.set(b, new Map());
    add(bucketFns.get(b)!, label(node.callFrame), us);
    add(areas, area(node.callFrame), us);
    add(fns, label(node.callFrame), us);
    const seen = new Set<string>();
    let nearest: string | null = null;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (!isOurs(cf.url)) continue;
      const key = label(cf);
      nearest ??= key;
      if (!seen.has(key)) {
        seen.add(key);
        add(inclusive, key, us);
      }
    }
    if (nearest) under += us;
    add(charged, nearest ?? `(no Tollgate frame on the stack: ${area(node.callFrame)})`, us);
  }
  const top = (m: Map<string, number>, n: number): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    totalMs: total / 1000,
    buckets: top(buckets, 30),
    bucketTop: new Map([...bucketFns].map(([k, m]) => [k, top(m, 4)])),
    byArea: top(areas, 30),
    topSelf: top(fns, topN),
    oursInclusive: top(inclusive, topN),
    chargedToOurs: top(charged, topN),
    underOurs: total ? under / total : 0,
  };
}

/**
 * The heaviest call paths (leaf first, `depth` frames) into functions whose label matches `re`:
 * who calls the expensive thing. Same sample window as `summarize`.
 */
export function callers(
  prof: Profile,
  re: RegExp,
  depth = 6,
  topN = 5,
  window?: { fromUs: number; toUs: number },
): string {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const paths = new Map<string, number>();
  let total = 0;
  let at = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const leaf = byId.get(prof.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    total += dt;
    // The matching frame nearest the leaf, then `depth` frames above it.
    let cur: number | undefined = leaf.id;
    while (cur !== undefined && !re.test(label(byId.get(cur)!.callFrame))) cur = parent.get(cur);
    if (cur === undefined) continue;
    const frames: string[] = [];
    for (let d = 0; d < depth && cur !== undefined; d++, cur = parent.get(cur))
      frames.push(label(byId.get(cur)!.callFrame).replace(/\s+/g, ' '));
    const key = frames.join('  <-  ');
    paths.set(key, (paths.get(key) ?? 0) + dt);
  }
  return [...paths]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([k, v]) => `${((100 * v) / (total || 1)).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
}

/** `requests`: requests served in the sampled window, to express each cost centre in µs per request. */
export function formatSummary(s: Summary, requests?: number): string {
  const pct = (v: number): string => ((100 * v) / (s.totalMs * 1000)).toFixed(1).padStart(5) + ' %';
  const perReq = (v: number): string => (requests ? `${(v / requests).toFixed(1).padStart(6)} µs/req  ` : '');
  const block = (title: string, rows: [string, number][]): string =>
    `\n== ${title}\n` + rows.map(([k, v]) => `${pct(v)}  ${k}`).join('\n') + '\n';
  return (
    `non-idle CPU sampled: ${(s.totalMs / 1000).toFixed(2)} s; stacks with a Tollgate frame: ${(100 * s.underOurs).toFixed(1)} %\n` +
    `\n== cost centres (first match from the sampled frame up its stack)${requests ? `; µs of CPU per request over ${requests} requests` : ''}\n` +
    s.buckets
      .map(
        ([k, v]) =>
          `${pct(v)}  ${perReq(v)}${k}\n` +
          (s.bucketTop.get(k) ?? []).map(([fn, u]) => `             ${pct(u)}  ${fn.replace(/\s+/g, ' ')}`).join('\n'),
      )
      .join('\n') +
    '\n' +
    block('self time by area (Tollgate file, npm package, node: internal, GC)', s.byArea) +
    block('top functions by self time', s.topSelf) +
    block('Tollgate functions by inclusive time (self + everything they call)', s.oursInclusive) +
    block('self time charged to the nearest Tollgate frame on the stack', s.chargedToOurs)
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/tools/cpuprofile-top.ts file.cpuprofile [topN]');
    process.exit(2);
  }
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // `npm run bench -- --profile` leaves the measured run's window next to the profile.
  const windowFile = join(dirname(file), 'window.json');
  const w = existsSync(windowFile)
    ? (JSON.parse(readFileSync(windowFile, 'utf8')) as { fromUs: number; toUs: number; requests: number })
    : undefined;
  const at = process.argv.indexOf('--callers');
  if (at > 0)
    console.log(callers(prof, new RegExp(process.argv[at + 1] ?? '.'), Number(process.argv[at + 2] ?? 6), 12, w));
  else console.log(formatSummary(summarize(prof, Number(process.argv[3] ?? 25), w), w?.requests));
}
