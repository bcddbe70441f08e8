import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Points the HubSpot project at a deployment of the service, so nobody edits JSON by hand:
 * - the webhook target (`webhooks/webhooks-hsmeta.json`),
 * - the URL cards may fetch (`permittedUrls.fetch`) and the OAuth redirect (`app-hsmeta.json`),
 * - the URL the card, settings and home pages call (`client/serviceUrl.json` in the extensions
 *   package the UI components' package.json files name),
 * - the support contacts HubSpot shows for the app (`app-hsmeta.json`'s `support`).
 *
 *   npm run hubspot:configure -- --public-url https://dealgate.acme.io [--support-email it@acme.io]
 *     [--support-url https://...] [--documentation-url https://...] [--support-phone "+1 ..."] [--project-dir .]
 *
 * Support contacts are the people who support *this* deployment, which Dealgate cannot guess: each
 * given option is written; one not given keeps its current value unless that is the template's
 * placeholder (at a reserved example domain, or a 555 5555 number), which is removed rather than
 * published.
 */

export interface SupportContacts {
  supportEmail?: string;
  supportUrl?: string;
  documentationUrl?: string;
  supportPhone?: string;
}

export interface ConfigureOptions {
  publicUrl: string;
  support?: SupportContacts;
}

export interface ConfigureResult {
  publicUrl: string;
  webhookUrl: string;
  redirectUrl: string;
  /** The support contacts now in app-hsmeta.json. */
  support: SupportContacts;
  /** Placeholder support fields that were removed (their names). */
  removedPlaceholders: (keyof SupportContacts)[];
  changedFiles: string[];
}

export class ConfigureError extends Error {}
/** A bad command line (exit code 2, with the usage). */
export class UsageError extends ConfigureError {}

/** Paths Dealgate itself serves: a public URL ending in one is a route pasted by mistake. */
const SERVICE_ROUTES = ['/webhooks/hubspot', '/oauth/callback', '/oauth/install', '/healthz', '/readyz', '/api/v1', '/ops'];

const refuse = (option: string, value: string, why: string): never => {
  throw new ConfigureError(`${option} ${why}: "${value}"`);
};

function parseHttpsUrl(option: string, raw: string): URL {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse(option, raw, 'is not a URL (expected e.g. https://dealgate.acme.io)');
  }
  if (url.protocol !== 'https:') refuse(option, raw, 'must use https:// (HubSpot only calls HTTPS URLs from cards and webhooks)');
  if (url.username || url.password) refuse(option, raw, 'must not carry a user name or password');
  if (value.includes('?') || value.includes('#')) refuse(option, raw, 'must not carry a query string or fragment');
  return url;
}

function isLoopbackOrLocal(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || host === '0.0.0.0' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** 10/8, 172.16/12, 192.168/16, link-local 169.254/16 and shared 100.64/10: never reachable from HubSpot. */
function isPrivateIPv4(hostname: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(hostname);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * The service's public base URL as HubSpot will call it: https, a public host name, optionally a
 * base path (a service behind a proxy under /dealgate), nothing else. Returned without the trailing
 * slash, with the host lower-cased and the default port dropped, as PUBLIC_BASE_URL normalises it.
 */
export function parsePublicUrl(raw: string): string {
  const option = '--public-url';
  const url = parseHttpsUrl(option, raw);
  if (isLoopbackOrLocal(url.hostname)) refuse(option, raw, 'must be reachable from HubSpot (it never calls localhost)');
  if (isPrivateIPv4(url.hostname)) refuse(option, raw, 'is a private network address HubSpot cannot reach: give the public host name the service answers on');
  if (isReservedExampleHost(url.hostname)) refuse(option, raw, "is at a reserved example domain (the template's placeholder): give the service's real public URL");
  if (!url.hostname.includes('.')) refuse(option, raw, 'must have a public host name such as dealgate.acme.io');
  const path = url.pathname.replace(/\/+$/, '');
  // The path as typed: the URL parser would quietly resolve "/a/../b" or "%2e%2e" into another path.
  const typedPath = raw.trim().replace(/^https:\/\/[^/]*/i, '').replace(/\/+$/, '');
  if (path !== '' || typedPath !== '') {
    const segments = typedPath.slice(1).split('/');
    if (typedPath !== path || segments.some((s) => !/^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/.test(s))) {
      refuse(option, raw, 'may only add a plain base path (letters, digits, - _ . ~; no empty, dot or encoded segments)');
    }
    const route = SERVICE_ROUTES.find((r) => path.endsWith(r) || (r === '/api/v1' && path.includes(`${r}/`)));
    if (route) {
      const base = `${url.origin}${path.slice(0, path.lastIndexOf(route))}`;
      refuse(option, raw, `ends in Dealgate's own route ${route}: give the service's base URL (${base})`);
    }
  }
  return `${url.origin}${path}`;
}

/** Domains reserved for examples (RFC 2606/6761): never a real support contact. */
function isReservedExampleHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return /(^|\.)example\.(com|net|org)$/.test(h) || /\.(example|test|invalid|localhost)$/.test(h) || h === 'example';
}

function isPlaceholder(field: keyof SupportContacts, value: unknown): boolean {
  if (typeof value !== 'string' || value.trim() === '') return true;
  // The template's +1 800 555 5555 (any NNN 555 5555 reads as a stand-in).
  if (field === 'supportPhone') return /^1?\d{3}5555555$/.test(value.replace(/\D/g, ''));
  if (field === 'supportEmail') return isReservedExampleHost(value.split('@').pop() ?? '');
  try {
    return isReservedExampleHost(new URL(value).hostname);
  } catch {
    return true;
  }
}

function parseSupport(support: SupportContacts): SupportContacts {
  const out: SupportContacts = {};
  if (support.supportEmail !== undefined) {
    const email = support.supportEmail.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) refuse('--support-email', support.supportEmail, 'is not an email address');
    if (isReservedExampleHost(email.split('@').pop() ?? '')) refuse('--support-email', support.supportEmail, 'is at a reserved example domain');
    out.supportEmail = email;
  }
  for (const [field, option] of [
    ['supportUrl', '--support-url'],
    ['documentationUrl', '--documentation-url'],
  ] as const) {
    const value = support[field];
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      return refuse(option, value, 'is not a URL');
    }
    if (url.protocol !== 'https:') refuse(option, value, 'must use https://');
    if (url.username || url.password) refuse(option, value, 'must not carry a user name or password');
    if (isReservedExampleHost(url.hostname)) refuse(option, value, 'is at a reserved example domain');
    out[field] = url.href;
  }
  if (support.supportPhone !== undefined) {
    const phone = support.supportPhone.trim();
    const digits = phone.replace(/\D/g, '');
    if (!/^\+?[\d\s().-]+$/.test(phone) || digits.length < 7 || digits.length > 15) {
      refuse('--support-phone', support.supportPhone, 'is not a phone number (digits, spaces, + ( ) - ., 7 to 15 digits)');
    }
    out.supportPhone = phone;
  }
  return out;
}

interface JsonObject {
  [key: string]: unknown;
}

function readJson(path: string): JsonObject {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonObject;
}

function writeJson(path: string, value: JsonObject): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

function objectAt(parent: JsonObject, key: string, file: string): JsonObject {
  const value = parent[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigureError(`${file}: expected an object at "${key}"`);
  }
  return value as JsonObject;
}

export const EXTENSIONS_PACKAGE = '@dealgate/extensions';
/** Inside the extensions package: the file the UI reads the service URL from (see client/serviceClient.ts). */
export const SERVICE_URL_FILE = join('client', 'serviceUrl.json');

/**
 * The extensions package every UI component (a folder of src/app with a package.json) depends on,
 * found the way HubSpot's build finds it: through the `file:` dependency its package.json names.
 */
export function extensionsDirsOf(appDir: string): string[] {
  const dirs = new Set<string>();
  for (const entry of readdirSync(appDir, { withFileTypes: true })) {
    const pkgFile = join(appDir, entry.name, 'package.json');
    if (!entry.isDirectory() || !existsSync(pkgFile)) continue;
    const spec = (readJson(pkgFile).dependencies as Record<string, string> | undefined)?.[EXTENSIONS_PACKAGE];
    if (spec === undefined) continue;
    if (!spec.startsWith('file:')) throw new ConfigureError(`${pkgFile}: ${EXTENSIONS_PACKAGE} must be a file: dependency, not "${spec}"`);
    dirs.add(resolve(appDir, entry.name, spec.slice('file:'.length)));
  }
  return [...dirs];
}

export function configureHubSpotProject(projectDir: string, options: ConfigureOptions | string): ConfigureResult {
  const { publicUrl: rawPublicUrl, support = {} } = typeof options === 'string' ? { publicUrl: options } : options;
  const publicUrl = parsePublicUrl(rawPublicUrl);
  const givenSupport = parseSupport(support);
  const project = readJson(join(projectDir, 'hsproject.json'));
  const appDir = join(projectDir, String(project.srcDir ?? 'src'), 'app');
  const webhookUrl = `${publicUrl}/webhooks/hubspot`;
  const redirectUrl = `${publicUrl}/oauth/callback`;
  const changedFiles: string[] = [];

  // Check everything before writing anything.
  const extensionsDirs = extensionsDirsOf(appDir);
  if (extensionsDirs.length === 0) throw new ConfigureError(`no UI component in ${appDir} depends on ${EXTENSIONS_PACKAGE}`);
  const uiFiles = extensionsDirs.map((dir) => join(dir, SERVICE_URL_FILE));
  for (const file of uiFiles) if (!existsSync(file)) throw new ConfigureError(`${file} is missing: the UI reads the service URL from it`);

  const appFile = join(appDir, 'app-hsmeta.json');
  const app = readJson(appFile);
  const appConfig = objectAt(app, 'config', appFile);
  objectAt(appConfig, 'permittedUrls', appFile).fetch = [publicUrl];
  objectAt(appConfig, 'auth', appFile).redirectUrls = [redirectUrl];
  const current = appConfig.support === undefined ? {} : objectAt(appConfig, 'support', appFile);
  const nextSupport: SupportContacts = {};
  const removedPlaceholders: (keyof SupportContacts)[] = [];
  for (const field of ['supportEmail', 'documentationUrl', 'supportUrl', 'supportPhone'] as const) {
    const value = givenSupport[field] ?? current[field];
    if (value === undefined) continue;
    if (givenSupport[field] === undefined && isPlaceholder(field, value)) removedPlaceholders.push(field);
    else nextSupport[field] = String(value);
  }
  // *Unconfirmed*: HubSpot's account API has every support field nullable, so an app without them
  // is taken to be valid; the offline parser does not check the schema.
  if (Object.keys(nextSupport).length > 0) appConfig.support = nextSupport;
  else delete appConfig.support;
  const webhooksFile = join(appDir, 'webhooks', 'webhooks-hsmeta.json');
  const webhooks = readJson(webhooksFile);
  objectAt(objectAt(webhooks, 'config', webhooksFile), 'settings', webhooksFile).targetUrl = webhookUrl;

  writeJson(appFile, app);
  writeJson(webhooksFile, webhooks);
  changedFiles.push(appFile, webhooksFile);
  for (const file of uiFiles) {
    writeJson(file, { ...readJson(file), serviceUrl: publicUrl });
    changedFiles.push(file);
  }
  return { publicUrl, webhookUrl, redirectUrl, support: nextSupport, removedPlaceholders, changedFiles };
}

const OPTIONS = {
  '--public-url': 'publicUrl',
  '--support-email': 'supportEmail',
  '--support-url': 'supportUrl',
  '--documentation-url': 'documentationUrl',
  '--support-phone': 'supportPhone',
  '--project-dir': 'projectDir',
} as const;

type OptionName = (typeof OPTIONS)[keyof typeof OPTIONS];

/** `--name value` or `--name=value`; an unknown option, a repeated one or a missing value is an error. */
export function parseArgs(args: string[]): Partial<Record<OptionName, string>> {
  const out: Partial<Record<OptionName, string>> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(flag in OPTIONS)) throw new UsageError(`unknown option ${arg} (known: ${Object.keys(OPTIONS).join(', ')})`);
    const key = OPTIONS[flag as keyof typeof OPTIONS];
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    if (out[key] !== undefined) throw new UsageError(`${flag} is given twice`);
    out[key] = value;
  }
  return out;
}

const USAGE =
  'usage: npm run hubspot:configure -- --public-url https://dealgate.acme.io\n' +
  '         [--support-email it@acme.io] [--support-url https://...] [--documentation-url https://...]\n' +
  '         [--support-phone "+1 617 555 0100"] [--project-dir .]\n';

function summary(result: ConfigureResult, projectDir: string): string {
  const shown = (file: string) => {
    const rel = relative(process.cwd(), file);
    return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
  };
  const support = Object.entries(result.support).map(([k, v]) => `${k} ${v}`);
  return (
    `HubSpot project in ${shown(projectDir) || '.'} now points at ${result.publicUrl}:\n` +
    `  webhooks      -> ${result.webhookUrl}\n` +
    `  card fetches  -> ${result.publicUrl} (permittedUrls.fetch, and the URL the card, settings and home pages call)\n` +
    `  OAuth         -> ${result.redirectUrl}\n` +
    `  support       -> ${support.length > 0 ? support.join(', ') : 'none (give --support-email / --support-url / --documentation-url / --support-phone)'}\n` +
    (result.removedPlaceholders.length > 0 ? `  removed the template's placeholder ${result.removedPlaceholders.join(', ')}\n` : '') +
    `Updated: ${result.changedFiles.map(shown).join(', ')}\n` +
    `Set PUBLIC_BASE_URL=${result.publicUrl} on the service. Next: hs project upload\n`
  );
}

if (require.main === module) {
  try {
    const args = parseArgs(process.argv.slice(2));
    if (!args.publicUrl) {
      process.stderr.write(USAGE);
      process.exit(2);
    }
    const projectDir = resolve(args.projectDir ?? '.');
    const result = configureHubSpotProject(projectDir, {
      publicUrl: args.publicUrl,
      support: { supportEmail: args.supportEmail, supportUrl: args.supportUrl, documentationUrl: args.documentationUrl, supportPhone: args.supportPhone },
    });
    process.stdout.write(summary(result, projectDir));
  } catch (error) {
    process.stderr.write(`hubspot:configure failed: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof UsageError) process.stderr.write(USAGE);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
