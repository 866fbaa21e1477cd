import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The module layout of docs/architecture.md, checked: each top-level folder under src/ is a
// module, and the graph of which module imports which has no cycle, so every module can be read,
// tested and changed with only the modules below it in mind. Production files only: a test beside
// its code may use modules above it as fixtures (a budget test builds a model registry), and test
// kits and benches live outside src/. The root files (gateway.ts, index.ts, server.ts) are nodes
// of their own.

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Relative specifiers of static imports, re-exports (`export … from`) and dynamic `import('…')`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return productionFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `src/budgets/quote.ts` → `budgets`; `src/gateway.ts` → `gateway`. */
function moduleOf(file: string): string {
  const [first = '', ...rest] = relative(SRC, file).split(sep);
  return rest.length === 0 ? first.replace(/\.[jt]s$/, '') : first;
}

/** Module → module → the imports that make that edge (`budgets/quote.ts → ../router/model-registry.js`). */
export function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of productionFiles(SRC)) {
    const from = moduleOf(file);
    const edges = graph.get(from) ?? new Map<string, string[]>();
    graph.set(from, edges);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1]!;
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(SRC)) continue;
      const to = moduleOf(target);
      if (to === from) continue;
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} → ${specifier}`]);
    }
  }
  return graph;
}

/** The first cycle found by depth-first search, as the path of modules that closes it; null when acyclic. */
export function findCycle(graph: Map<string, Map<string, string[]>>): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const next of [...(graph.get(node)?.keys() ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('the src/ folder graph', () => {
  it('has no cycle', () => {
    const graph = folderGraph();
    assert.ok(graph.size > 10, 'read the modules under src/');
    const cycle = findCycle(graph);
    const explain = (cycle ?? []).slice(1).map((to, i) => {
      const from = cycle![i]!;
      return `  ${from} → ${to}: ${graph.get(from)!.get(to)!.join(', ')}`;
    });
    assert.equal(cycle, null, `modules import each other in a cycle: ${cycle?.join(' → ')}\n${explain.join('\n')}`);
  });

  it('finds a cycle when there is one', () => {
    const edge = (...to: string[]) => new Map(to.map((t) => [t, ['x']]));
    const graph = new Map([
      ['a', edge('b')],
      ['b', edge('c')],
      ['c', edge('a')],
      ['d', edge('a')],
    ]);
    assert.deepEqual(findCycle(graph), ['a', 'b', 'c', 'a']);
    graph.set('c', edge());
    assert.equal(findCycle(graph), null);
  });

  it('leaves the assembled config schema to config/ and the composition roots', () => {
    const roots = new Set(['config', 'cli', 'gateway', 'index']);
    const offenders = [...folderGraph()]
      .filter(([from]) => !roots.has(from))
      .flatMap(([, edges]) => (edges.get('config') ?? []).filter((line) => /config\/schema\.js$/.test(line)));
    assert.deepEqual(offenders, [], 'modules take their settings types from their own schema file');
  });
});
