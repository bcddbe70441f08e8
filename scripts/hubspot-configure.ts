import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Points the HubSpot project at a deployment of the service: the webhook target, the URL the
 * card may fetch, and the OAuth redirect. Usage:
 *   npm run hubspot:configure -- --public-url https://dealgate.example.com
 */
const publicUrlSchema = z
  .string()
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a URL' });
      return;
    }
    if (url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'must use https:// (HubSpot only calls HTTPS URLs from cards and webhooks)' });
    } else if (url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: 'must not carry a query string or fragment' });
    }
  })
  .transform((value) => value.replace(/\/+$/, ''));

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
    throw new Error(`${file}: expected an object at "${key}"`);
  }
  return value as JsonObject;
}

export interface ConfigureResult {
  publicUrl: string;
  changedFiles: string[];
}

export function configureHubSpotProject(projectDir: string, rawPublicUrl: string): ConfigureResult {
  const parsed = publicUrlSchema.safeParse(rawPublicUrl);
  if (!parsed.success) {
    throw new Error(`--public-url ${parsed.error.issues[0]?.message ?? 'is invalid'}: "${rawPublicUrl}"`);
  }
  const publicUrl = parsed.data;
  const project = readJson(join(projectDir, 'hsproject.json'));
  const srcDir = join(projectDir, String(project.srcDir ?? 'src'));

  const appFile = join(srcDir, 'app', 'app-hsmeta.json');
  const app = readJson(appFile);
  const appConfig = objectAt(app, 'config', appFile);
  objectAt(appConfig, 'permittedUrls', appFile).fetch = [publicUrl];
  objectAt(appConfig, 'auth', appFile).redirectUrls = [`${publicUrl}/oauth/callback`];
  writeJson(appFile, app);

  const webhooksFile = join(srcDir, 'app', 'webhooks', 'webhooks-hsmeta.json');
  const webhooks = readJson(webhooksFile);
  objectAt(objectAt(webhooks, 'config', webhooksFile), 'settings', webhooksFile).targetUrl = `${publicUrl}/webhooks/hubspot`;
  writeJson(webhooksFile, webhooks);

  return { publicUrl, changedFiles: [appFile, webhooksFile] };
}

function argValue(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index >= 0) return args[index + 1];
  const inline = args.find((arg) => arg.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const publicUrl = argValue(args, '--public-url');
  if (!publicUrl) {
    process.stderr.write('usage: npm run hubspot:configure -- --public-url https://dealgate.example.com [--project-dir .]\n');
    process.exit(2);
  }
  try {
    const result = configureHubSpotProject(resolve(argValue(args, '--project-dir') ?? '.'), publicUrl);
    process.stdout.write(
      `HubSpot project now points at ${result.publicUrl}:\n` +
        `  webhooks  -> ${result.publicUrl}/webhooks/hubspot\n` +
        `  card fetch-> ${result.publicUrl}\n` +
        `  OAuth     -> ${result.publicUrl}/oauth/callback\n` +
        `Updated: ${result.changedFiles.join(', ')}\nNext: hs project upload\n`,
    );
  } catch (error) {
    process.stderr.write(`hubspot:configure failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
