import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigureError, configureHubSpotProject, parseArgs, parsePublicUrl, UsageError } from '../../scripts/hubspot-configure';
import { configuredCopy, filesMentioning, type ConfiguredCopy } from '../support/configuredCopy';

const root = resolve(__dirname, '../..');

interface IrNode {
  componentType: string;
  config: Record<string, unknown>;
  metaFilePath: string;
}

/** Runs HubSpot's own offline project parser (ESM-only, so in a child process). */
function parseProject(projectDir: string): Record<string, IrNode> {
  const out = execFileSync(process.execPath, [join(root, 'tests/support/parseProject.mjs'), projectDir], {
    cwd: root,
    encoding: 'utf8',
  });
  const parsed = JSON.parse(out) as
    | { ok: true; result: { intermediateRepresentation: { intermediateNodesIndexedByUid: Record<string, IrNode> } } }
    | { ok: false; error: string };
  if (!parsed.ok) throw new Error(`HubSpot's project parser refused the project: ${parsed.error}`);
  return parsed.result.intermediateRepresentation.intermediateNodesIndexedByUid;
}

/** HubSpot's table of component types (type -> the folder it must live in), from the parser itself. */
function knownComponentTypes(): Record<string, { dir: string }> {
  const script =
    "import { Components } from '@hubspot/project-parsing-lib/constants';" +
    'process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(Components).map(([k, v]) => [k, { dir: v.dir }]))));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out) as Record<string, { dir: string }>;
}

describe('the HubSpot project, as HubSpot parses it', () => {
  const nodes = parseProject(root);
  const known = knownComponentTypes();

  it('is an OAuth app with the scopes Dealgate needs', () => {
    const app = nodes.dealgate_app;
    expect(app?.componentType).toBe('APPLICATION');
    const auth = app?.config.auth as { type: string; requiredScopes: string[] };
    expect(auth.type).toBe('oauth');
    // Exactly what Dealgate's calls need; tests/simulator/scopes.test.ts proves each is needed and enough.
    expect(auth.requiredScopes).toEqual(
      expect.arrayContaining([
        'crm.objects.deals.read',
        'crm.objects.deals.write',
        'crm.schemas.deals.write',
        'crm.objects.contacts.read',
        'crm.objects.contacts.write',
        'crm.objects.owners.read',
      ]),
    );
  });

  it('has a tab card on deals whose entry file exists', () => {
    const card = nodes.dealgate_deal_card;
    expect(card?.componentType).toBe('CARD');
    expect(card?.config).toMatchObject({ location: 'crm.record.tab', objectTypes: ['deals'] });
    const entry = String(card?.config.entrypoint);
    expect(readFileSync(join(root, 'src', entry), 'utf8')).toContain("from '@dealgate/extensions'");
  });

  // The offline parser upper-cases whatever `type` says without checking it, so each UI component is
  // also held to the parser's own table of types and the folder that type must live in.
  it.each([
    ['dealgate_settings', 'settings', 'settings'],
    ['dealgate_home', 'page', 'pages'],
  ])('has %s as a known %s component in app/%s/ whose entry renders from @dealgate/extensions', (uid, type, dir) => {
    const node = nodes[uid];
    expect(node?.componentType).toBe(type.toUpperCase());
    expect(known[type]?.dir).toBe(dir);
    expect(node?.metaFilePath.startsWith(`app/${dir}/`)).toBe(true);
    const entry = String(node?.config.entrypoint);
    expect(entry.startsWith(`/app/${dir}/`)).toBe(true);
    expect(readFileSync(join(root, 'src', entry), 'utf8')).toContain("from '@dealgate/extensions'");
  });

  it('puts the deal-desk page on the app home', () => {
    expect(nodes.dealgate_home?.config).toMatchObject({ location: 'home' });
  });

  it('gives every component a type HubSpot knows, in the folder that type lives in', () => {
    const metas = readdirSync(join(root, 'src/app'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('-hsmeta.json'));
    expect(metas.length).toBe(Object.keys(nodes).length);
    for (const file of metas) {
      const { type } = JSON.parse(readFileSync(join(root, 'src/app', file), 'utf8')) as { type: string };
      expect({ file, type, known: type in known }).toEqual({ file, type, known: true });
      // app-hsmeta.json sits at the app's root; every other component in its type's folder.
      if (type !== 'app') expect({ file, dir: dirname(file) }).toEqual({ file, dir: known[type]?.dir });
    }
  });

  it('subscribes to every deal change the gate depends on', () => {
    const webhooks = nodes.dealgate_webhooks;
    expect(webhooks?.componentType).toBe('WEBHOOKS');
    const subs = (webhooks?.config.subscriptions as { legacyCrmObjects: { subscriptionType: string; propertyName?: string; active: boolean }[] })
      .legacyCrmObjects;
    const active = subs.filter((s) => s.active).map((s) => `${s.subscriptionType}${s.propertyName ? `:${s.propertyName}` : ''}`);
    expect(active.sort()).toEqual(
      [
        'deal.creation',
        'deal.deletion',
        'deal.propertyChange:amount',
        'deal.propertyChange:deal_currency_code',
        'deal.propertyChange:dealgate_commitment',
        'deal.propertyChange:dealgate_commitment_summary',
        'deal.propertyChange:dealgate_effort_weeks',
        'deal.propertyChange:dealstage',
        'deal.propertyChange:pipeline',
      ].sort(),
    );
  });

  it('keeps the service and the simulator out of the upload', () => {
    const ignored = readFileSync(join(root, 'src/.hsignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['server', 'simulator']));
    for (const node of Object.values(nodes)) expect(node.metaFilePath.startsWith('app/')).toBe(true);
  });
});

describe('npm run hubspot:configure', () => {
  const readJson = <T = Record<string, unknown>>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;
  const appOf = (copy: ConfiguredCopy) => readJson<{ config: { support?: Record<string, string> } }>(join(copy.srcDir, 'app/app-hsmeta.json'));
  const uiUrlOf = (copy: ConfiguredCopy) => readJson<{ serviceUrl: string }>(join(copy.dir, 'extensions/client/serviceUrl.json')).serviceUrl;

  it('points webhooks, card fetches, the OAuth redirect and the URL the UI calls at the public URL', () => {
    const copy = configuredCopy({ publicUrl: 'https://gate.acme.io/' });
    try {
      expect(copy.result.publicUrl).toBe('https://gate.acme.io');
      const nodes = parseProject(copy.dir);
      expect(nodes.dealgate_webhooks?.config.settings).toMatchObject({ targetUrl: 'https://gate.acme.io/webhooks/hubspot' });
      expect(nodes.dealgate_app?.config.permittedUrls).toMatchObject({ fetch: ['https://gate.acme.io'] });
      expect(nodes.dealgate_app?.config.auth).toMatchObject({ redirectUrls: ['https://gate.acme.io/oauth/callback'] });
      // The one file the card, settings and home pages read the service URL from.
      expect(uiUrlOf(copy)).toBe('https://gate.acme.io');
      expect(copy.result.changedFiles.map((f) => f.slice(copy.dir.length + 1)).sort()).toEqual(
        ['extensions/client/serviceUrl.json', 'src/app/app-hsmeta.json', 'src/app/webhooks/webhooks-hsmeta.json'].sort(),
      );
    } finally {
      copy.cleanup();
    }
  });

  it('can point the project at another deployment later (nothing of the first one is left)', () => {
    const copy = configuredCopy({ publicUrl: 'https://gate.acme.io' });
    try {
      configureHubSpotProject(copy.dir, { publicUrl: 'https://dealgate.globex.com/tools/dealgate' });
      expect(uiUrlOf(copy)).toBe('https://dealgate.globex.com/tools/dealgate');
      expect(filesMentioning([join(copy.srcDir, 'app'), join(copy.dir, 'extensions')], 'gate.acme.io')).toEqual([]);
      expect(parseProject(copy.dir).dealgate_webhooks?.config.settings).toMatchObject({
        targetUrl: 'https://dealgate.globex.com/tools/dealgate/webhooks/hubspot',
      });
    } finally {
      copy.cleanup();
    }
  });

  it.each([
    ['https://gate.acme.io', 'https://gate.acme.io'],
    ['  https://Gate.ACME.io:443/  ', 'https://gate.acme.io'],
    ['https://gate.acme.io:8443', 'https://gate.acme.io:8443'],
    ['https://acme.io/dealgate/', 'https://acme.io/dealgate'],
  ])('takes %j as %s (as PUBLIC_BASE_URL normalises it)', (raw, url) => {
    expect(parsePublicUrl(raw)).toBe(url);
  });

  it.each([
    ['http://gate.acme.io', /must use https:\/\//],
    ['not a url', /is not a URL/],
    ['gate.acme.io', /is not a URL/],
    ['https://gate.acme.io/?x=1', /query string or fragment/],
    ['https://gate.acme.io/#card', /query string or fragment/],
    ['https://admin:pw@gate.acme.io', /user name or password/],
    ['https://localhost:3000', /never calls localhost/],
    ['https://127.0.0.1', /never calls localhost/],
    ['https://10.0.0.5', /private network address HubSpot cannot reach/],
    ['https://192.168.1.20/dealgate', /private network address HubSpot cannot reach/],
    ['https://172.20.0.3', /private network address HubSpot cannot reach/],
    ['https://169.254.10.1', /private network address HubSpot cannot reach/],
    ['https://dealgate.example.com', /reserved example domain/],
    ['https://dealgate', /public host name/],
    ['https://gate.acme.io/webhooks/hubspot', /own route \/webhooks\/hubspot: give the service's base URL \(https:\/\/gate\.acme\.io\)/],
    ['https://gate.acme.io/oauth/callback', /own route \/oauth\/callback/],
    ['https://acme.io/dealgate/api/v1/deals/1/gate', /own route \/api\/v1: give the service's base URL \(https:\/\/acme\.io\/dealgate\)/],
    ['https://gate.acme.io/healthz', /own route \/healthz/],
    ['https://gate.acme.io/a/../b', /plain base path/],
    ['https://gate.acme.io/%2e%2e/admin', /plain base path/],
    ['https://gate.acme.io//x', /plain base path/],
    ['https://gate.acme.io/deal gate', /plain base path/],
  ])('refuses %s with a clear error', (raw, message) => {
    expect(() => parsePublicUrl(raw)).toThrow(ConfigureError);
    expect(() => parsePublicUrl(raw)).toThrow(message);
    expect(() => parsePublicUrl(raw)).toThrow(/^--public-url /);
  });

  it('refuses before it writes anything', () => {
    const copy = configuredCopy({ publicUrl: 'https://gate.acme.io' });
    try {
      const files = copy.result.changedFiles;
      const before = files.map((f) => readFileSync(f, 'utf8'));
      expect(() => configureHubSpotProject(copy.dir, { publicUrl: 'https://other.acme.io', support: { supportEmail: 'nobody' } })).toThrow(
        /--support-email is not an email address/,
      );
      expect(() => configureHubSpotProject(copy.dir, 'http://other.acme.io')).toThrow(/--public-url must use https/);
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
    } finally {
      copy.cleanup();
    }
  });

  it("replaces the template's placeholder support contacts, never publishes them, and keeps real ones", () => {
    // The template ships support@dealgate.example.com and a 555 number: HubSpot shows these to the
    // people who install the app, so the configured project holds only contacts someone gave.
    const copy = configuredCopy({ publicUrl: 'https://gate.acme.io' });
    try {
      const appFile = join(copy.srcDir, 'app/app-hsmeta.json');
      const template = readJson<{ config: Record<string, unknown> }>(appFile);
      template.config.support = {
        supportEmail: 'support@dealgate.example.com',
        documentationUrl: 'https://dealgate.example.com/docs',
        supportUrl: 'https://dealgate.example.com/support',
        supportPhone: '+18005555555',
      };
      writeFileSync(appFile, JSON.stringify(template));
      const placeholders = configureHubSpotProject(copy.dir, { publicUrl: 'https://gate.acme.io' });
      expect(placeholders.removedPlaceholders.sort()).toEqual(['documentationUrl', 'supportEmail', 'supportPhone', 'supportUrl']);
      expect(appOf(copy).config.support).toBeUndefined();
      const given = configureHubSpotProject(copy.dir, {
        publicUrl: 'https://gate.acme.io',
        support: { supportEmail: ' revops@acme.io ', supportUrl: 'https://help.acme.io/dealgate', supportPhone: '+1 (617) 555-0123' },
      });
      expect(given.support).toEqual({ supportEmail: 'revops@acme.io', supportUrl: 'https://help.acme.io/dealgate', supportPhone: '+1 (617) 555-0123' });
      // Configuring again for another URL keeps the contacts given before.
      configureHubSpotProject(copy.dir, { publicUrl: 'https://gate2.acme.io', support: { documentationUrl: 'https://wiki.acme.io/dealgate?tab=setup' } });
      expect(appOf(copy).config.support).toEqual({
        supportEmail: 'revops@acme.io',
        documentationUrl: 'https://wiki.acme.io/dealgate?tab=setup',
        supportUrl: 'https://help.acme.io/dealgate',
        supportPhone: '+1 (617) 555-0123',
      });
      expect(parseProject(copy.dir).dealgate_app?.config.support).toMatchObject({ supportEmail: 'revops@acme.io' });
    } finally {
      copy.cleanup();
    }
  });

  it.each([
    [{ supportEmail: 'revops at acme' }, /--support-email is not an email address/],
    [{ supportEmail: 'support@dealgate.example.com' }, /--support-email is at a reserved example domain/],
    [{ supportUrl: 'http://help.acme.io' }, /--support-url must use https/],
    [{ supportUrl: 'help' }, /--support-url is not a URL/],
    [{ documentationUrl: 'https://docs.example.org' }, /--documentation-url is at a reserved example domain/],
    [{ supportPhone: 'call us' }, /--support-phone is not a phone number/],
    [{ supportPhone: '123' }, /--support-phone is not a phone number/],
  ])('refuses the support contact %j', (support, message) => {
    expect(() => configureHubSpotProject(root, { publicUrl: 'https://gate.acme.io', support })).toThrow(message);
  });

  it('reads --name value and --name=value, and refuses unknown, repeated or empty options', () => {
    expect(parseArgs(['--public-url', 'https://a.acme.io', '--support-email=x@acme.io'])).toEqual({ publicUrl: 'https://a.acme.io', supportEmail: 'x@acme.io' });
    expect(() => parseArgs(['--public-url', 'https://a.acme.io', '--supprt-email', 'x'])).toThrow(UsageError);
    expect(() => parseArgs(['--public-url', 'https://a.acme.io', '--public-url', 'https://b.acme.io'])).toThrow(/given twice/);
    expect(() => parseArgs(['--public-url'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--public-url', '--support-email', 'x@acme.io'])).toThrow(/needs a value/);
  });

  it('runs from the command line: says what it wrote, exits 1 on a bad URL and 2 on a bad option', () => {
    const copy = configuredCopy({ publicUrl: 'https://gate.acme.io' });
    try {
      const cli = (...args: string[]) =>
        spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/hubspot-configure.ts'), '--project-dir', copy.dir, ...args], { encoding: 'utf8' });
      const ok = cli('--public-url', 'https://dealgate.acme.io', '--support-email', 'it@acme.io');
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain('now points at https://dealgate.acme.io');
      expect(ok.stdout).toContain('PUBLIC_BASE_URL=https://dealgate.acme.io');
      expect(ok.stdout).toContain('extensions/client/serviceUrl.json');
      expect(uiUrlOf(copy)).toBe('https://dealgate.acme.io');
      const bad = cli('--public-url', 'http://dealgate.acme.io');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/hubspot:configure failed: --public-url must use https:\/\//);
      const usage = cli('--public-url', 'https://dealgate.acme.io', '--suport-url', 'https://help.acme.io');
      expect(usage.status).toBe(2);
      expect(usage.stderr).toMatch(/unknown option --suport-url[\s\S]*usage: npm run hubspot:configure/);
    } finally {
      copy.cleanup();
    }
  });
});
