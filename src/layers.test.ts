// The import graph of src, read with the TypeScript compiler's own import scanner, against the layers of
// layers.json: no import circle between files or between parts, no import from a lower layer to a higher one
// beyond the few listed below, and test fixtures reached from tests only. Type-only imports count: a type a
// lower layer needs belongs to that layer.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import layerFile from './layers.json';

const SRC = __dirname;

/** Imports that still run upwards, `from -> to` below src; the test wants exactly these, so a fixed one leaves the list. */
const KNOWN_UPWARD = (layerFile.knownUpward as { import: string; why: string }[]).map((known) => known.import);

const isTest = (file: string) => /\.test\.tsx?$/.test(file);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative import names (`./x` as x.ts, x.tsx or x/index.ts), or null for packages and other files. */
function resolveImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    try {
      if (statSync(candidate).isFile()) return /\.tsx?$/.test(candidate) ? candidate : null;
    } catch {
      // not this candidate
    }
  }
  return null;
}

/** Every file below src with the src files it imports (static, dynamic and type-only imports, and re-exports). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map((i) => resolveImport(file, i.fileName)).filter((t): t is string => t !== null);
    graph.set(relative(SRC, file), [...new Set(targets.map((t) => relative(SRC, t)))]);
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-import): the import circles. */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const PARTS = layerFile.layers.flatMap((parts, rank) => parts.map((part) => ({ part, rank })));

/** The layers.json part a file belongs to: the longest entry that is the file or a folder above it. */
function partOf(file: string): { part: string; rank: number } | undefined {
  const matches = PARTS.filter(({ part }) => file === part || file.startsWith(`${part}/`));
  return matches.sort((a, b) => b.part.length - a.part.length)[0];
}

const graph = importGraph();
const productionEdges = [...graph].filter(([from]) => !isTest(from)).flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

describe('the import graph of src', () => {
  it('finds the imports it is meant to check', () => {
    // A scanner that found nothing would pass every other test here.
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('core/corrections/strokes.ts')).toEqual(expect.arrayContaining(['core/store/correctionsRepo.ts', 'core/corrections/modelLabels.ts']));
    expect(graph.get('core/store/correctionsRepo.ts')).toContain('shared/labelDelta.ts');
  });

  it('places every source file in a layer', () => {
    expect([...graph.keys()].filter((file) => !isTest(file) && !partOf(file))).toEqual([]);
  });

  it('has no import circle between files', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('has no import circle between parts, apart from the upward imports listed', () => {
    const parts = new Map<string, string[]>();
    for (const { from, to } of productionEdges) {
      if (KNOWN_UPWARD.includes(`${from} -> ${to}`)) continue;
      const [a, b] = [partOf(from)?.part, partOf(to)?.part];
      if (!a || !b || a === b) continue;
      parts.set(a, [...new Set([...(parts.get(a) ?? []), b])]);
    }
    expect(circles(parts)).toEqual([]);
  });

  it('imports from a lower layer to a higher one only where listed', () => {
    const upward = productionEdges.filter(({ from, to }) => partOf(to)!.rank > partOf(from)!.rank).map(({ from, to }) => `${from} -> ${to}`);
    expect(upward.sort()).toEqual([...KNOWN_UPWARD].sort());
  });

  it('keeps test fixtures for tests', () => {
    expect(productionEdges.filter(({ from, to }) => to.startsWith('core/testFixtures/') && !from.startsWith('core/testFixtures/'))).toEqual([]);
  });

  it('keeps the store below every feature: it imports only the store itself and shared', () => {
    const fromStore = productionEdges.filter(({ from, to }) => from.startsWith('core/store/') && !to.startsWith('core/store/') && !to.startsWith('shared/'));
    expect(fromStore).toEqual([]);
  });
});
