import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The house drawn from the imports (docs/development.md, "Layout"): every folder of src/ (a top-level file counts as
// its own folder) stands on one floor, and an import may only go to its own floor or one below. A new folder has to
// be placed here, so its floor is a decision, not an accident.
const floors: readonly (readonly string[])[] = [
  ['entrypoints'],
  ['commands', 'protocol'],
  ['output'],
  ['engine'],
  ['rollout'],
  ['cluster', 'sources'],
  ['request'],
  ['manifests', 'time'],
  ['kube', 'log', 'errors'],
];
const maxFunctionLines = 80;

const src = resolve('src');
const floorOf = new Map(floors.flatMap((names, floor) => names.map((name) => [name, floor] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const folderOf = (file: string) => relative(src, file).split('/')[0]!.replace(/\.ts$/, '');

interface Parsed {
  file: string;
  imports: string[];
  functions: { name: string; line: number; lines: number }[];
}

function parse(file: string): Parsed {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const functions: Parsed['functions'] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      if (specifier.startsWith('.')) imports.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
    }
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const name =
        node.name?.getText(source) ??
        (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(anonymous)');
      const line = lineOf(node.getStart(source));
      functions.push({ name, line, lines: lineOf(node.end) - line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { file, imports, functions };
}

const parsed = sourceFiles(src).map(parse);

/** The strongly connected components with more than one member (Tarjan): each is an import cycle. */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const connect = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) connect(node);
  return found;
}

describe('the house drawn from the imports', () => {
  it('places every folder of src/ on a floor', () => {
    const unplaced = [...new Set(parsed.map((p) => folderOf(p.file)))].filter((folder) => !floorOf.has(folder));
    expect(unplaced).toEqual([]);
  });

  it('has no import that runs back up a floor', () => {
    const upward = parsed.flatMap(({ file, imports }) =>
      imports
        .filter((target) => floorOf.get(folderOf(target))! < floorOf.get(folderOf(file))!)
        .map((target) => `${relative(src, file)} -> ${relative(src, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle between folders or between files', () => {
    const folders = new Map<string, Set<string>>();
    const files = new Map<string, Set<string>>();
    for (const { file, imports } of parsed) {
      files.set(file, new Set(imports));
      for (const target of imports) {
        if (folderOf(target) === folderOf(file)) continue;
        folders.set(folderOf(file), (folders.get(folderOf(file)) ?? new Set()).add(folderOf(target)));
      }
    }
    expect(cycles(folders)).toEqual([]);
    expect(cycles(files).map((cycle) => cycle.map((file) => relative(src, file)))).toEqual([]);
  });

  it(`has no function over ${maxFunctionLines} lines`, () => {
    const long = parsed.flatMap(({ file, functions }) =>
      functions
        .filter((f) => f.lines > maxFunctionLines)
        .map((f) => `${relative(src, file)}:${f.line} ${f.name} (${f.lines} lines)`),
    );
    expect(long).toEqual([]);
  });

  it('sees the imports and functions it judges (the checks above cannot pass on nothing)', () => {
    expect(parsed.length).toBeGreaterThan(50);
    expect(parsed.flatMap((p) => p.imports).length).toBeGreaterThan(200);
    expect(parsed.flatMap((p) => p.functions).length).toBeGreaterThan(300);
  });
});
