import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  domainImpurities,
  EXTENSIONS_ROOT,
  folderCycles,
  foldersOf,
  importsOf,
  layerViolations,
  longFunctions,
  readExtensionSources,
  readServerSources,
  readToolSources,
  BENCH_ROOT,
  SCRIPTS_ROOT,
  SERVER_ROOT,
  SIMULATOR_ROOT,
  type SourceFile,
} from '../support/layoutRules';

/**
 * The layout of src/server holds (README, "Layout", Rules): no two folders import each other,
 * imports only go down the layer order, the domain imports nothing but itself and shared/, and no
 * function is longer than 80 lines, in src/server, the UI's extensions/, the simulator, the bench and
 * the scripts alike. Each rule is also run on a deliberately broken tree, and each tree is checked to
 * be read whole, so a rule that stopped seeing anything would fail here rather than pass quietly.
 */

/** Every folder of src/server (and its top level: main.ts, service.ts) holds its functions to 80 lines. */
const SHORT_FUNCTION_FOLDERS = ['.', 'http', 'workers', 'application', 'hubspot', 'storage', 'domain', 'shared', 'config'];

const sources = readServerSources(SERVER_ROOT);
/** extensions/ without its tests: the card, settings and home pages, their client and the wire contract. */
const extensionSources = readExtensionSources(EXTENSIONS_ROOT);

function withFile(files: readonly SourceFile[], path: string, text: string): SourceFile[] {
  return [...files.filter((f) => f.path !== path), { path, text }];
}

describe('the layout of src/server', () => {
  it('reads the imports of every file', () => {
    expect(sources.length).toBeGreaterThan(50);
    const gatePort = sources.find((f) => f.path === 'application/gatePort.ts');
    expect(gatePort && importsOf(gatePort).map((r) => r.target)).toContain('application/context');
  });

  it('(a) has no two folders that import each other', () => {
    expect(folderCycles(sources)).toEqual([]);
  });

  it('(b) imports only go down: main.ts/service.ts -> http, workers -> application -> hubspot -> storage -> domain -> shared, config', () => {
    expect(layerViolations(sources)).toEqual([]);
  });

  it('(c) the domain imports only the domain and shared/', () => {
    expect(domainImpurities(sources)).toEqual([]);
  });

  it(`(d) no function in ${SHORT_FUNCTION_FOLDERS.join('/, ')}/ is longer than 80 lines`, () => {
    expect(longFunctions(sources, SHORT_FUNCTION_FOLDERS)).toEqual([]);
  });
});

describe('the layout of extensions/', () => {
  it('reads every source of every folder, and no test', () => {
    expect(foldersOf(extensionSources)).toEqual(expect.arrayContaining(['.', 'card', 'client', 'contract', 'home', 'settings', 'text']));
    expect(extensionSources.map((f) => f.path)).toEqual(expect.arrayContaining(['index.ts', 'card/GateView.tsx', 'card/DecisionForm.tsx', 'settings/SettingsPage.tsx']));
    expect(extensionSources.filter((f) => /\.(test|spec)\.tsx?$/.test(f.path))).toEqual([]);
  });

  it('(d) no function in extensions/ (components, hooks, wording) is longer than 80 lines', () => {
    expect(longFunctions(extensionSources, foldersOf(extensionSources))).toEqual([]);
  });
});

/**
 * The simulator, the bench and the scripts: every folder of each, read whole (at least `atLeast`
 * files, these folders and these files among them), bench/tmp (the bench's scratch) left out.
 */
const TOOL_TREES = [
  { name: 'src/simulator', root: SIMULATOR_ROOT, atLeast: 20, folders: ['.', 'auth', 'crm', 'http', 'traffic', 'webhooks'], holds: ['simulator.ts', 'http/apiRoute.ts', 'http/crmObjectRoutes.ts'] },
  { name: 'bench', root: BENCH_ROOT, atLeast: 20, folders: ['.', 'baselines', 'lib', 'servers'], holds: ['run.ts', 'dataScale.ts', 'noisyNeighbour.ts', 'lib/load.ts', 'servers/service.ts'] },
  { name: 'scripts', root: SCRIPTS_ROOT, atLeast: 10, folders: ['.', 'demo'], holds: ['demo.ts', 'hubspot-configure.ts', 'demo/story.ts'] },
];

describe.each(TOOL_TREES)('the layout of $name', ({ name, root, atLeast, folders, holds }) => {
  const toolSources = readToolSources(root);

  it('reads every source of every folder, and no scratch file', () => {
    expect(toolSources.length).toBeGreaterThanOrEqual(atLeast);
    expect(foldersOf(toolSources)).toEqual(expect.arrayContaining(folders));
    expect(toolSources.map((f) => f.path)).toEqual(expect.arrayContaining(holds));
    expect(toolSources.filter((f) => f.path.startsWith('tmp/'))).toEqual([]);
  });

  it(`(d) no function in ${name}/ is longer than 80 lines`, () => {
    expect(longFunctions(toolSources, foldersOf(toolSources))).toEqual([]);
  });
});

describe('the layout rules, on a deliberately broken tree', () => {
  it('(a) names both imports of two folders that import each other', () => {
    const broken = withFile(withFile([], 'storage/a.ts', "import { b } from '../hubspot/b';\n"), 'hubspot/b.ts', "export { a } from '../storage/a';\n");
    expect(folderCycles(broken)).toEqual([
      "hubspot/ and storage/ import each other: hubspot/b.ts:1 imports '../storage/a'; storage/a.ts:1 imports '../hubspot/b'",
    ]);
  });

  it('(b) names an import that goes up, one between http and workers, and one of the composition root', () => {
    const broken = withFile(
      withFile(withFile([], 'domain/upward.ts', "import type { Store } from '../storage/store';\n"), 'http/toWorkers.ts', "import { createBackground } from '../workers/background';\n"),
      'application/toRoot.ts',
      "const main = () => import('../main');\n",
    );
    const found = layerViolations(broken);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining("domain/upward.ts:1 imports '../storage/store': domain/ may not import storage/"),
        expect.stringContaining("http/toWorkers.ts:1 imports '../workers/background': http/ may not import workers/"),
        expect.stringContaining("application/toRoot.ts:1 imports '../main': application/ may not import the composition root"),
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('(c) names a domain file that imports the wire types, storage or a package', () => {
    const broken = withFile(
      withFile([], 'domain/wired.ts', "import type { GateResponse } from '../../../extensions/contract/api';\nimport { z } from 'zod';\nimport { randomUUID } from 'node:crypto';\n"),
      'domain/stored.ts',
      "export type { Store } from '../storage/store';\n",
    );
    expect(domainImpurities(broken)).toEqual([
      "domain/wired.ts:1 imports '../../../extensions/contract/api': domain/ imports only domain/ and shared/, not extensions/contract/api",
      "domain/wired.ts:3 imports 'node:crypto': domain/ imports only domain/ and shared/, not the package node:crypto",
      "domain/stored.ts:1 imports '../storage/store': domain/ imports only domain/ and shared/, not storage/",
    ]);
  });

  it('(d) names a function of 81 lines and leaves one of 80 alone', () => {
    const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const broken = withFile(
      [],
      'application/long.ts',
      `export function fits() {\n${body(80)}\n}\nexport const tooLong = async () => {\n${body(81)}\n};\nexport const port = {\n  method() {\n${body(81)}\n  },\n};\n`,
    );
    expect(longFunctions(broken, ['application'])).toEqual([
      'application/long.ts:81 tooLong is 81 lines (at most 80)',
      'application/long.ts:163 method is 81 lines (at most 80)',
    ]);
    expect(longFunctions(broken, ['domain'])).toEqual([]);
  });

  it('(d) names a component of 81 lines in a .tsx under extensions/, leaves one of 80 alone, and reads no test there', () => {
    const component = (name: string, n: number) =>
      `export function ${name}() {\n  return (\n    <>\n${Array.from({ length: n - 6 }, (_, i) => `      <Text>${i}</Text>`).join('\n')}\n    </>\n  );\n}\n`;
    const root = mkdtempSync(join(tmpdir(), 'dealgate-layout-'));
    try {
      mkdirSync(join(root, 'card'));
      mkdirSync(join(root, 'tests'));
      writeFileSync(join(root, 'card/Long.tsx'), `${component('Fits', 80)}${component('TooLong', 81)}`);
      writeFileSync(join(root, 'card/Long.test.tsx'), component('LongTest', 81));
      writeFileSync(join(root, 'tests/helper.tsx'), component('LongHelper', 81));
      writeFileSync(join(root, 'index.ts'), "export * from './card/Long';\n");
      const read = readExtensionSources(root);
      expect(read.map((f) => f.path)).toEqual(['card/Long.tsx', 'index.ts']);
      expect(longFunctions(read, foldersOf(read))).toEqual(['card/Long.tsx:81 TooLong is 81 lines (at most 80)']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('(d) names a function of 81 lines in any folder of the bench, and reads neither its tmp/ nor a test', () => {
    const body = Array.from({ length: 79 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const long = (name: string) => `export function ${name}() {\n${body}\n}\n`;
    const root = mkdtempSync(join(tmpdir(), 'dealgate-layout-'));
    try {
      for (const folder of ['lib', 'tmp', 'lib/deep']) mkdirSync(join(root, folder));
      writeFileSync(join(root, 'run.ts'), long('main'));
      writeFileSync(join(root, 'lib/deep/load.ts'), long('openLoop'));
      writeFileSync(join(root, 'tmp/scratch.ts'), long('scratch'));
      writeFileSync(join(root, 'lib/load.test.ts'), long('loadTest'));
      const read = readToolSources(root);
      expect(read.map((f) => f.path)).toEqual(['lib/deep/load.ts', 'run.ts']);
      expect(longFunctions(read, foldersOf(read))).toEqual(['lib/deep/load.ts:1 openLoop is 81 lines (at most 80)', 'run.ts:1 main is 81 lines (at most 80)']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
