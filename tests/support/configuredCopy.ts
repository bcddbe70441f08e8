import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configureHubSpotProject, extensionsDirsOf, type ConfigureOptions, type ConfigureResult } from '../../scripts/hubspot-configure';
import type { ServiceFetcher } from '../../extensions/client/serviceClient';
import { cardRequest } from './cardClient';
import { tempDir } from './env';

const root = resolve(__dirname, '../..');

/** A UI component as its *-hsmeta.json declares it. */
export interface UiEntry {
  uid: string;
  type: 'card' | 'settings' | 'page';
  /** The component's folder (HubSpot installs its package.json there and builds from there). */
  dir: string;
  /** The entry file HubSpot loads (config.entrypoint, under srcDir). */
  entry: string;
}

/**
 * A copy of the HubSpot project (hsproject.json, src/app, the extensions package) in a temp
 * directory, configured with `npm run hubspot:configure`'s function, and installed the way
 * HubSpot's build installs each UI component: a node_modules in the component's folder holding the
 * dependencies its package.json names, the `file:` extensions package linked to the copy's (whose
 * own dependencies are linked beside it), registry packages linked to this repository's installed
 * ones. Nothing outside the copy can supply the copy's code: the card built from it is the card
 * the configured project uploads.
 */
export interface ConfiguredCopy {
  dir: string;
  srcDir: string;
  result: ConfigureResult;
  entries: UiEntry[];
  /** The URL prefixes HubSpot lets the UI fetch (permittedUrls.fetch of the copy's app-hsmeta.json). */
  permittedFetchUrls: string[];
  cleanup(): void;
}

const noNodeModules = (source: string) => !source.split(/[\\/]/).includes('node_modules');

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function linkPackage(intoDir: string, name: string, target: string): void {
  if (!existsSync(target)) throw new Error(`${name} is not installed (${target}): run npm ci`);
  const at = join(intoDir, 'node_modules', name);
  mkdirSync(dirname(at), { recursive: true });
  if (!existsSync(at)) symlinkSync(target, at, 'dir');
}

/** What `npm install` in `dir` gives: each dependency of its package.json (peers too, as npm 7+ installs them). */
function installDependencies(dir: string): string[] {
  const pkg = readJson<{ dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>(join(dir, 'package.json'));
  const linked: string[] = [];
  for (const [name, spec] of Object.entries({ ...pkg.peerDependencies, ...pkg.dependencies })) {
    const target = spec.startsWith('file:') ? resolve(dir, spec.slice('file:'.length)) : join(root, 'node_modules', name);
    linkPackage(dir, name, target);
    if (spec.startsWith('file:')) linked.push(target);
  }
  return linked;
}

export function uiEntriesOf(srcDir: string): UiEntry[] {
  const appDir = join(srcDir, 'app');
  const entries: UiEntry[] = [];
  for (const file of readdirSync(appDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('-hsmeta.json') || !noNodeModules(file)) continue;
    const meta = readJson<{ uid: string; type: string; config: { entrypoint?: string } }>(join(appDir, file));
    if ((meta.type === 'card' || meta.type === 'settings' || meta.type === 'page') && meta.config.entrypoint) {
      entries.push({ uid: meta.uid, type: meta.type, dir: dirname(join(appDir, file)), entry: join(srcDir, meta.config.entrypoint) });
    }
  }
  return entries.sort((a, b) => a.uid.localeCompare(b.uid));
}

export function configuredCopy(options: ConfigureOptions): ConfiguredCopy {
  const tmp = tempDir('dealgate-configured-');
  try {
    const project = readJson<{ srcDir: string }>(join(root, 'hsproject.json'));
    cpSync(join(root, 'hsproject.json'), join(tmp.path, 'hsproject.json'));
    cpSync(join(root, project.srcDir, 'app'), join(tmp.path, project.srcDir, 'app'), { recursive: true, filter: noNodeModules });
    const srcDir = join(tmp.path, project.srcDir);
    // The extensions package goes where the components' `file:` dependency points, as in the repository.
    for (const dir of extensionsDirsOf(join(root, project.srcDir, 'app'))) {
      cpSync(dir, join(tmp.path, dir.slice(root.length)), { recursive: true, filter: noNodeModules });
    }
    const result = configureHubSpotProject(tmp.path, options);
    const entries = uiEntriesOf(srcDir);
    const packages = new Set<string>();
    for (const dir of new Set(entries.map((e) => e.dir))) for (const linked of installDependencies(dir)) packages.add(linked);
    for (const dir of packages) installDependencies(dir);
    const app = readJson<{ config: { permittedUrls: { fetch: string[] } } }>(join(srcDir, 'app', 'app-hsmeta.json'));
    return { dir: tmp.path, srcDir, result, entries, permittedFetchUrls: app.config.permittedUrls.fetch, cleanup: tmp.cleanup };
  } catch (error) {
    tmp.cleanup();
    throw error;
  }
}

/** Every file under `dirs` (node_modules skipped, as the upload skips it) whose text contains `needle`. */
export function filesMentioning(dirs: string[], needle: string): string[] {
  const hits: string[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const path = join(dir, file);
      if (noNodeModules(file) && statSync(path).isFile() && readFileSync(path, 'utf8').includes(needle)) hits.push(path);
    }
  }
  return hits;
}

export interface FetchRecord {
  url: string;
  method: string;
  status: number;
}

/**
 * `hubspot.fetch` for a service deployed at `publicUrl`, as HubSpot runs it: a URL outside
 * `permittedUrls` is refused before anything is sent; otherwise HubSpot appends the caller to the
 * query string and signs the request over the public URL it calls. The request then reaches the
 * service under test at `serviceUrl` (the proxy in front of it), which checks that signature
 * against its PUBLIC_BASE_URL: a card calling any other URL gets a 401.
 */
export function deployedHubSpotFetch(options: {
  publicUrl: string;
  permittedUrls: string[];
  serviceUrl: string;
  secret: string;
  userId: string;
  portalId: number;
  now: () => number;
  calls: FetchRecord[];
}): ServiceFetcher {
  return async (url, init = {}) => {
    const method = init.method ?? 'GET';
    if (!options.permittedUrls.some((prefix) => url === prefix || url.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))) {
      options.calls.push({ url, method, status: 0 });
      throw new Error(`HubSpot refused the fetch: ${url} is not in permittedUrls.fetch (${options.permittedUrls.join(', ')})`);
    }
    if (!url.startsWith(`${options.publicUrl}/`)) throw new Error(`${url} is permitted but not the deployed service (${options.publicUrl})`);
    const { status, json } = await cardRequest(options.serviceUrl, options.secret, {
      method,
      path: url.slice(options.publicUrl.length),
      userId: options.userId,
      portalId: options.portalId,
      body: init.body,
      timestamp: options.now(),
      publicBaseUrl: options.publicUrl,
    });
    options.calls.push({ url, method, status });
    return new Response(json === null ? null : JSON.stringify(json), { status, headers: { 'content-type': 'application/json' } });
  };
}

/**
 * What HubSpot hands an extension's render function: the renderer's mock context with the viewer
 * `userId` (and, on a record, the deal `dealId`), and its mock actions.
 */
export function extensionApi(mocks: { context: unknown; actions: unknown }, userId: string, dealId: string): { context: unknown; actions: unknown } {
  const context = mocks.context as { user: Record<string, unknown>; crm?: Record<string, unknown> };
  return {
    context: { ...context, user: { ...context.user, id: Number(userId) }, crm: { ...context.crm, objectId: Number(dealId) } },
    actions: mocks.actions,
  };
}
