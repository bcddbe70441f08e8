import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join, parse, resolve } from 'node:path';
import * as React from 'react';
import * as RemoteUI from '@remote-ui/react';
import { NumberInput, StatisticsItem, StatusTag } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { ManualClock } from '../../src/server/shared/clock';
import type { ServiceFetcher } from '../../extensions/client/serviceClient';
import { startStack, type Stack } from '../support/stack';
import { configuredCopy, deployedHubSpotFetch, extensionApi, type ConfiguredCopy, type FetchRecord, type UiEntry } from '../support/configuredCopy';
import { users } from './support/liveService';
import { eventually } from './cardHarness';

// Every UI entry built as HubSpot builds it at upload (remoteBuild of @hubspot/ui-extensions-dev-server:
// vite, a minified IIFE with react and @remote-ui/react left to the host, HubSpot's code-blocking
// and manifest plugins), from a project configured for https://dealgate.acme.io. Each bundle is
// then run the way HubSpot's extension worker runs it and must call the configured service.
const PUBLIC_URL = 'https://dealgate.acme.io';
const WAIT = { timeoutInMs: 8000 };
const root = resolve(__dirname, '../..');

interface Build {
  entry: UiEntry;
  bundle: string;
  manifest: { entry: string; modules: { internal: { module: string }[] }; installedSdkVersion?: string };
}

interface BuildRun {
  ok: boolean;
  error?: string;
  builds: { entryPoint: string; outputDir: string; ms: number }[];
  messages: { level: string; text: string }[];
}

let copy: ConfiguredCopy;
let run: BuildRun;
let builds: Build[];
let stack: Stack;
let clock: ManualClock;

beforeAll(async () => {
  copy = configuredCopy({ publicUrl: PUBLIC_URL });
  const jobs = copy.entries.map((entry) => ({ root: entry.dir, entryPoint: entry.entry, outputDir: join(copy.dir, 'dist', entry.uid) }));
  const resultFile = join(copy.dir, 'build-result.json');
  execFileSync(process.execPath, [join(root, 'tests/support/remoteBuild.mjs'), resultFile, JSON.stringify(jobs)], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  run = JSON.parse(readFileSync(resultFile, 'utf8')) as BuildRun;
  if (!run.ok) throw new Error(`HubSpot's build (remoteBuild) failed: ${run.error}\n${run.messages.map((m) => m.text).join('\n')}`);
  builds = copy.entries.map((entry, i) => {
    const out = jobs[i]!.outputDir;
    const name = parse(entry.entry).name;
    return {
      entry,
      bundle: readFileSync(join(out, `${name}.js`), 'utf8'),
      manifest: JSON.parse(readFileSync(join(out, `${name}-manifest.json`), 'utf8')) as Build['manifest'],
    };
  });
  clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
  stack = await startStack({
    clock,
    env: { PUBLIC_BASE_URL: PUBLIC_URL },
    defaults: { valueThreshold: 50_000, reviewers: [users.reviewer], admins: [users.admin] },
  });
  await stack.provision();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  copy?.cleanup();
});

/**
 * Runs a bundle as HubSpot's extension worker does: `self` is the worker (flagged
 * __HUBSPOT_EXTENSION_WORKER__, with extend_V2 to register the extension and hsFetch behind
 * hubspot.fetch), React and RemoteUI are the host's globals the build left out.
 */
function runInWorker(bundle: string, hsFetch: ServiceFetcher): ((api: unknown) => React.ReactElement)[] {
  const registered: ((api: unknown) => React.ReactElement)[] = [];
  const worker = {
    __HUBSPOT_EXTENSION_WORKER__: true,
    extend_V2: (render: (api: unknown) => React.ReactElement) => {
      registered.push(render);
    },
    hsFetch,
    serverless: () => Promise.reject(new Error('Dealgate has no serverless functions')),
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  new Function('self', 'React', 'RemoteUI', bundle)(worker, React, RemoteUI);
  return registered;
}

const byUid = (uid: string): Build => {
  const build = builds.find((b) => b.entry.uid === uid);
  if (!build) throw new Error(`no build for ${uid}`);
  return build;
};

describe("HubSpot's upload build (remoteBuild) of the configured project", () => {
  it('builds the card, settings and home entries, each from the copy and its extensions package', () => {
    expect(builds.map((b) => b.entry.uid)).toEqual(['dealgate_deal_card', 'dealgate_home', 'dealgate_settings']);
    for (const { entry, manifest } of builds) {
      expect(manifest.entry).toBe(basename(entry.entry));
      expect(manifest.installedSdkVersion).toBe('0.17.0');
      // The URL file is bundled from the configured copy, not from this repository.
      expect(manifest.modules.internal.map((m) => m.module)).toContain(join(copy.dir, 'extensions/client/serviceUrl.json'));
    }
    expect(run.builds.map((b) => b.ms).every((ms) => ms < 30_000)).toBe(true);
  });

  it("raises none of HubSpot's build warnings (imports from outside the extension, require, ...)", () => {
    expect(run.messages.filter((m) => m.level === 'warn' || m.level === 'error')).toEqual([]);
  });

  it.each(['dealgate_deal_card', 'dealgate_settings', 'dealgate_home'])('%s bundle names the configured URL and not dealgate.example.com', (uid) => {
    const { bundle } = byUid(uid);
    const mentions = (needle: string) => bundle.split(needle).length - 1;
    // (Counted, not matched with toContain: a failure would print the whole 100 kB bundle.)
    expect({ configured: mentions(`"${PUBLIC_URL}"`), template: mentions('dealgate.example.com') }).toEqual({ configured: 1, template: 0 });
  });

  it.each([
    ['dealgate_deal_card', 'crm.record.tab', users.rep],
    ['dealgate_settings', 'settings', users.admin],
    ['dealgate_home', 'home', users.reviewer],
  ] as const)('%s bundle, run as HubSpot runs it, fetches the configured service and shows its answer', async (uid, location, userId) => {
    const dealId = stack.sim.seedDeal({ properties: { dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' } }).id;
    const calls: FetchRecord[] = [];
    const hsFetch = deployedHubSpotFetch({
      publicUrl: PUBLIC_URL,
      permittedUrls: copy.permittedFetchUrls,
      serviceUrl: stack.url,
      secret: stack.clientSecret,
      userId,
      portalId: stack.sim.portalId,
      now: () => clock.now(),
      calls,
    });
    const registered = runInWorker(byUid(uid).bundle, hsFetch);
    expect(registered).toHaveLength(1);
    const renderer = createRenderer(location);
    renderer.render(registered[0]!(extensionApi(renderer.mocks, userId, dealId)));

    await eventually(() => expect(calls.length).toBeGreaterThan(0));
    const first = { 'crm.record.tab': `/api/v1/deals/${dealId}/gate`, settings: '/api/v1/settings', home: '/api/v1/dashboard' }[location];
    expect(calls[0]).toMatchObject({ url: `${PUBLIC_URL}${first}`, status: 200 });
    if (location === 'crm.record.tab') {
      await renderer.waitFor(() => expect(renderer.findByTestId(StatusTag, 'gate-status').text).toBe('No review needed'), WAIT);
    } else if (location === 'settings') {
      await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold').props.value).toBe(50_000), WAIT);
    } else {
      await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
    }
    for (const call of calls) expect(call).toMatchObject({ url: expect.stringMatching(`^${PUBLIC_URL}/api/v1/`), status: 200 });
  });
});
