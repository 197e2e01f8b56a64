// The import graph against the layer order of docs/ARCHITECTURE.md: every relative import of every .ts file must
// point down the layers (or stay in its own directory), and no chain of imports may lead back to the file it
// started from. Static `import ... from`, `export ... from`, side-effect `import '...'` and literal `import('...')`
// all count, type-only imports too: a type that reaches up is a dependency on the layer above all the same.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Bottom to top. A directory may import from a lower layer only; directories of one layer are siblings and may not
 * import each other. test/ is outside the order: a test may import any layer.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['common'],
  ['space', 'backend', 'data'],
  ['results', 'model'],
  ['train', 'latency'],
  ['search'],
  ['proxy-train', 'netadapt', 'zero-cost'],
  ['bench'],
  ['doctor'],
  ['cli', 'web', 'examples'],
];

// Known exceptions, each `from -> to` as repository paths: none. (The generic search learns an evaluator's settings
// through the evaluator's module, search/types.ts EvaluatorChecks, not by importing the proxy evaluator's config.)
const KNOWN_EXCEPTIONS: ReadonlySet<string> = new Set<string>([]);

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

function sourceFiles(dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !(dir === 'backend' && entry.name === 'native')) out.push(...sourceFiles(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The relative import specifiers of a source text (comments removed first, so prose that says "import" is not one). */
export function relativeImports(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = IMPORT_PATTERNS.flatMap((re) => [...code.matchAll(re)].map((m) => m[1] ?? ''));
  return [...new Set(specs.filter((s) => s.startsWith('.')))];
}

/** The repository path an import of `spec` from `file` reaches (`./x.js` is the source `./x.ts`). */
function target(file: string, spec: string): string {
  const joined = posix.normalize(posix.join(posix.dirname(file), spec));
  const ts = joined.replace(/\.js$/, '.ts');
  return existsSync(join(ROOT, ts)) ? ts : joined;
}

type Graph = ReadonlyMap<string, readonly string[]>;

function importGraph(): Graph {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    graph.set(file, relativeImports(text).map((spec) => target(file, spec)));
  }
  return graph;
}

const topDir = (path: string): string => path.split('/')[0] ?? path;

function layerOf(dir: string): number {
  return LAYERS.findIndex((layer) => layer.includes(dir));
}

/** Every import that leaves its directory for one not below it, as `from -> to (why)`. */
export function layerViolations(graph: Graph): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    const fromDir = topDir(from);
    if (fromDir === 'test' || !from.includes('/')) continue;
    for (const to of targets) {
      const toDir = topDir(to);
      if (toDir === fromDir || KNOWN_EXCEPTIONS.has(`${from} -> ${to}`)) continue;
      const [a, b] = [layerOf(fromDir), layerOf(toDir)];
      if (a < 0 || b < 0) bad.push(`${from} -> ${to} (add ${a < 0 ? fromDir : toDir}/ to LAYERS)`);
      else if (b >= a) bad.push(`${from} -> ${to} (${fromDir}/ may not import ${b === a ? 'its sibling' : 'the higher'} ${toDir}/)`);
    }
  }
  return bad;
}

/** One import chain per cycle of the file graph, as `a -> b -> ... -> a` (depth-first search, gray/black marks). */
export function importCycles(graph: Graph): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

test('the parser finds static, re-export, side-effect and dynamic imports, and skips comments', () => {
  const text = [
    "import { a,\n  b } from './a.js';",
    "import type { T } from '../space/arch.js';",
    "export { c } from './c.js';",
    "export * from './d.js';",
    "import '../model/layers.js';",
    "const m = await import('../latency/lut.js');",
    "// import { x } from '../cli/output.js';",
    "/* import('../cli/main.js') */",
    "import fs from 'node:fs';",
  ].join('\n');
  assert.deepEqual(relativeImports(text).sort(), ['../latency/lut.js', '../model/layers.js', '../space/arch.js', './a.js', './c.js', './d.js']);
});

test('the checks catch an upward import, a sibling import and a cycle', () => {
  const graph = new Map([
    ['space/load.ts', ['results/archRef.ts']],
    ['results/archRef.ts', ['space/arch.ts']],
    ['space/arch.ts', []],
    ['train/a.ts', ['latency/b.ts']],
    ['latency/b.ts', ['latency/c.ts']],
    ['latency/c.ts', ['latency/b.ts']],
  ]);
  assert.deepEqual(layerViolations(graph), [
    'space/load.ts -> results/archRef.ts (space/ may not import the higher results/)',
    'train/a.ts -> latency/b.ts (train/ may not import its sibling latency/)',
  ]);
  assert.deepEqual(importCycles(graph), ['latency/b.ts -> latency/c.ts -> latency/b.ts']);
});

test('every directory with source files has a layer', () => {
  const dirs = new Set(sourceFiles().filter((f) => f.includes('/')).map(topDir));
  const missing = [...dirs].filter((d) => d !== 'test' && layerOf(d) < 0);
  assert.deepEqual(missing, [], `add these directories to LAYERS (and to docs/ARCHITECTURE.md): ${missing.join(', ')}`);
});

test('no import points up the layers', () => {
  const bad = layerViolations(importGraph());
  assert.deepEqual(bad, [], `imports against the layer order of docs/ARCHITECTURE.md:\n${bad.join('\n')}`);
});

test('no import cycle between files', () => {
  const cycles = importCycles(importGraph());
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});

test('the known exceptions are still real (remove an entry once its import is gone)', () => {
  const graph = importGraph();
  for (const edge of KNOWN_EXCEPTIONS) {
    const [from = '', to = ''] = edge.split(' -> ');
    assert.ok(graph.get(from)?.includes(to), `${edge} is no longer imported: remove it from KNOWN_EXCEPTIONS`);
  }
});

test('docs/ARCHITECTURE.md states this layer order', () => {
  const order = LAYERS.map((layer) => layer.map((d) => `${d}/`).join(', ')).join(' < ');
  const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
  assert.ok(doc.includes(order), `docs/ARCHITECTURE.md should state the layer order as: ${order}`);
});
