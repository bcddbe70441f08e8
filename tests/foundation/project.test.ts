import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configureHubSpotProject } from '../../scripts/hubspot-configure';
import { tempDir } from '../support/env';

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
  it('points webhooks, card fetches and the OAuth redirect at the public URL', () => {
    const dir = tempDir();
    try {
      cpSync(join(root, 'hsproject.json'), join(dir.path, 'hsproject.json'));
      cpSync(join(root, 'src/app'), join(dir.path, 'src/app'), { recursive: true });
      const result = configureHubSpotProject(dir.path, 'https://gate.acme.io/');
      expect(result.publicUrl).toBe('https://gate.acme.io');
      const nodes = parseProject(dir.path);
      expect(nodes.dealgate_webhooks?.config.settings).toMatchObject({ targetUrl: 'https://gate.acme.io/webhooks/hubspot' });
      expect(nodes.dealgate_app?.config.permittedUrls).toMatchObject({ fetch: ['https://gate.acme.io'] });
      expect(nodes.dealgate_app?.config.auth).toMatchObject({ redirectUrls: ['https://gate.acme.io/oauth/callback'] });
    } finally {
      dir.cleanup();
    }
  });

  it.each(['http://gate.acme.io', 'not a url', 'https://gate.acme.io/?x=1'])('refuses %s', (url) => {
    expect(() => configureHubSpotProject(root, url)).toThrow(/--public-url/);
  });
});
