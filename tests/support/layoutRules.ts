import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The layout rules of src/server (README, "Layout"), as functions over source text so that
 * tests/foundation/layout.test.ts can run them on the real tree and on deliberately broken
 * fixtures alike. Paths are relative to src/server, with forward slashes.
 */

/**
 * Top to bottom; an import may only go to a lower rank. Files directly in src/server (main.ts,
 * service.ts: the composition root) are rank 0. Folders of one rank (http and workers; shared and
 * config) may not import each other.
 */
export const LAYER_RANK: Readonly<Record<string, number>> = {
  '.': 0,
  http: 1,
  workers: 1,
  application: 2,
  hubspot: 3,
  storage: 4,
  domain: 5,
  shared: 6,
  config: 6,
};

/** The rank of a file of src/server (a path such as `workers/inboxWorker.ts`) in the layer order. */
export function layerOf(path: string): number {
  const folder = path.includes('/') ? path.slice(0, path.indexOf('/')) : '.';
  const rank = LAYER_RANK[folder];
  if (rank === undefined) throw new Error(`${path}: ${folder}/ is not in the layer order (LAYER_RANK)`);
  return rank;
}

/** What domain/ may import: its own files and shared/ (errors, clock); outside src/server nothing but zod. */
const DOMAIN_MAY_IMPORT = new Set(['domain', 'shared']);
const DOMAIN_PACKAGES = new Set(['zod']);

export const MAX_FUNCTION_LINES = 80;

export interface ImportRef {
  /** The importing file, relative to src/server. */
  file: string;
  /** The module specifier as written. */
  specifier: string;
  line: number;
  /** The imported file relative to src/server (no extension); null for a package, or a path outside src/server. */
  target: string | null;
  /** For a relative path that leaves src/server: where it points, relative to the repository. */
  outside: string | null;
}

export interface SourceFile {
  /** Relative to src/server, e.g. `application/gatePort.ts`. */
  path: string;
  text: string;
}

/** Every `.ts`/`.tsx` file under a root (src/server, or extensions/ for readExtensionSources), as SourceFiles relative to it. */
export function readServerSources(serverRoot: string): SourceFile[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
  return walk(serverRoot)
    .sort()
    .map((file) => ({ path: relative(serverRoot, file).split('\\').join('/'), text: readFileSync(file, 'utf8') }));
}

/** A test's file name (`x.test.tsx`, `x.spec.ts`) or a tests folder: the sources hold their functions short, tests need not. */
const testPath = /(^|\/)(__tests__|tests?)\/|\.(test|spec)\.tsx?$/;

/**
 * Every `.ts`/`.tsx` file under extensions/ except tests, as SourceFiles relative to extensions/
 * (`card/GateView.tsx`; `index.ts` is in folder `.`): what rule (d) holds to 80 lines there too.
 */
export function readExtensionSources(extensionsRoot: string): SourceFile[] {
  return readServerSources(extensionsRoot).filter((file) => !testPath.test(file.path));
}

/** A folder of scratch files at a root (bench/tmp: databases and whatever a run leaves; git-ignored), not sources. */
const scratchPath = /^tmp\//;

/**
 * Every `.ts`/`.tsx` file under src/simulator, bench/ or scripts/ (all their folders), as SourceFiles
 * relative to that root, except its scratch folder (tmp/) and any test: what rule (d) holds to 80 lines there too.
 */
export function readToolSources(root: string): SourceFile[] {
  return readServerSources(root).filter((file) => !scratchPath.test(file.path) && !testPath.test(file.path));
}

/** The folders of some sources (`.` for files at their root), e.g. every folder of extensions/. */
export function foldersOf(files: readonly SourceFile[]): string[] {
  return [...new Set(files.map((file) => folderOf(file.path)))].sort();
}

const parsed = new WeakMap<SourceFile, ts.SourceFile>();

function parse(file: SourceFile): ts.SourceFile {
  const known = parsed.get(file);
  if (known) return known;
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, file.path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  parsed.set(file, source);
  return source;
}

/** The folder of a file (`.` for the files directly in src/server). */
export function folderOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

/** import/export-from declarations, `import x = require()`, `require()` and `import()` with a string literal. */
export function importsOf(file: SourceFile): ImportRef[] {
  const source = parse(file);
  const refs: ImportRef[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    let target: string | null = null;
    let outside: string | null = null;
    if (specifier.startsWith('.')) {
      const joined = posix.normalize(posix.join(posix.dirname(file.path), specifier)).replace(/\.(tsx?|js)$/, '');
      if (joined.startsWith('../')) outside = posix.normalize(posix.join('src/server', joined));
      else target = joined;
    }
    refs.push({ file: file.path, specifier, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, target, outside });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node, node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

const where = (ref: ImportRef) => `${ref.file}:${ref.line} imports '${ref.specifier}'`;

/** (a) Pairs of folders that import each other, each named with one import either way. */
export function folderCycles(files: readonly SourceFile[]): string[] {
  const edges = new Map<string, ImportRef>();
  for (const file of files) {
    for (const ref of importsOf(file)) {
      if (ref.target === null) continue;
      const from = folderOf(ref.file);
      const to = folderOf(ref.target);
      if (from !== to && !edges.has(`${from}->${to}`)) edges.set(`${from}->${to}`, ref);
    }
  }
  const cycles: string[] = [];
  for (const [key, ref] of edges) {
    const [from, to] = key.split('->') as [string, string];
    const back = edges.get(`${to}->${from}`);
    if (back && from < to) cycles.push(`${from}/ and ${to}/ import each other: ${where(ref)}; ${where(back)}`);
  }
  return cycles;
}

/** (b) Imports that do not go down the layer order (or come from or go to a folder the order does not know). */
export function layerViolations(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    const from = folderOf(file.path);
    const fromRank = LAYER_RANK[from];
    if (fromRank === undefined) {
      out.push(`${file.path}: ${from}/ is not in the layer order (tests/support/layoutRules.ts, LAYER_RANK)`);
      continue;
    }
    for (const ref of importsOf(file)) {
      if (ref.target === null) continue;
      const to = folderOf(ref.target);
      if (to === from) continue;
      const toRank = LAYER_RANK[to];
      if (toRank === undefined) out.push(`${where(ref)}: ${to}/ is not in the layer order`);
      else if (toRank <= fromRank) out.push(`${where(ref)}: ${from}/ may not import ${to === '.' ? 'the composition root' : `${to}/`} (imports only go down: ${layerOrder()})`);
    }
  }
  return out;
}

function layerOrder(): string {
  const byRank = new Map<number, string[]>();
  for (const [folder, rank] of Object.entries(LAYER_RANK)) byRank.set(rank, [...(byRank.get(rank) ?? []), folder === '.' ? 'main.ts/service.ts' : folder]);
  return [...byRank.entries()].sort(([a], [b]) => a - b).map(([, folders]) => folders.join(', ')).join(' -> ');
}

/** (c) What domain/ imports beyond domain/, shared/ and zod (no wire types, no storage, no HubSpot). */
export function domainImpurities(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (folderOf(file.path) !== 'domain') continue;
    for (const ref of importsOf(file)) {
      if (ref.target !== null && DOMAIN_MAY_IMPORT.has(folderOf(ref.target))) continue;
      if (ref.target === null && ref.outside === null && DOMAIN_PACKAGES.has(ref.specifier)) continue;
      const what = ref.outside !== null ? ref.outside : ref.target !== null ? `${folderOf(ref.target)}/` : `the package ${ref.specifier}`;
      out.push(`${where(ref)}: domain/ imports only domain/ and shared/, not ${what}`);
    }
  }
  return out;
}

/** (d) Functions (declarations, expressions, arrows, methods, accessors) longer than MAX_FUNCTION_LINES, in the given folders. */
export function longFunctions(files: readonly SourceFile[], folders: readonly string[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (!folders.includes(folderOf(file.path))) continue;
    const source = parse(file);
    const visit = (node: ts.Node): void => {
      if (
        (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node) || ts.isConstructorDeclaration(node)) &&
        node.body
      ) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.end).line;
        const lines = end - start + 1;
        if (lines > MAX_FUNCTION_LINES) out.push(`${file.path}:${start + 1} ${nameOf(node)} is ${lines} lines (at most ${MAX_FUNCTION_LINES})`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

function nameOf(node: ts.SignatureDeclaration): string {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) return parent.name.getText();
  return 'an anonymous function';
}

/** src/server of this repository. */
export const SERVER_ROOT = resolve(dirname(__filename), '../../src/server');

/** extensions/ of this repository: the UI's sources, held to rule (d) too. */
export const EXTENSIONS_ROOT = resolve(dirname(__filename), '../../extensions');

/** src/simulator, bench/ and scripts/ of this repository: held to rule (d) too. */
export const SIMULATOR_ROOT = resolve(dirname(__filename), '../../src/simulator');
export const BENCH_ROOT = resolve(dirname(__filename), '../../bench');
export const SCRIPTS_ROOT = resolve(dirname(__filename), '../../scripts');
