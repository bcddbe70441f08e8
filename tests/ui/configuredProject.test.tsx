import { join } from 'node:path';
import type { ReactElement } from 'react';
import { hubspot, NumberInput, StatisticsItem, StatusTag } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { ManualClock } from '../../src/server/shared/clock';
import type { ServiceFetcher } from '../../extensions/client/serviceClient';
import { startStack, type Stack } from '../support/stack';
import { configuredCopy, deployedHubSpotFetch, extensionApi, filesMentioning, type ConfiguredCopy, type FetchRecord } from '../support/configuredCopy';
import { users } from './support/liveService';
import { eventually } from './cardHarness';

// B6: after `npm run hubspot:configure -- --public-url ...` the UI calls the configured service, and
// nothing uploaded names the template's dealgate.example.com. The copy's own entry files and
// extensions package are loaded (not this repository's), the way HubSpot loads the configured upload.
const PUBLIC_URL = 'https://dealgate.acme.io';
const WAIT = { timeoutInMs: 8000 };

let copy: ConfiguredCopy;
let stack: Stack;
let clock: ManualClock;
beforeAll(async () => {
  copy = configuredCopy({ publicUrl: `${PUBLIC_URL}/`, support: { supportEmail: 'revops@acme.io' } });
  clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
  // The service as deployed behind https://dealgate.acme.io: it verifies every signature over that URL.
  stack = await startStack({
    clock,
    env: { PUBLIC_BASE_URL: PUBLIC_URL },
    defaults: { valueThreshold: 50_000, reviewers: [users.reviewer], admins: [users.admin] },
  });
  await stack.provision();
});
afterAll(async () => {
  await stack?.stop();
  copy?.cleanup();
});

const fetchAs = (userId: string, calls: FetchRecord[]) =>
  deployedHubSpotFetch({
    publicUrl: PUBLIC_URL,
    permittedUrls: copy.permittedFetchUrls,
    serviceUrl: stack.url,
    secret: stack.clientSecret,
    userId,
    portalId: stack.sim.portalId,
    now: () => clock.now(),
    calls,
  });

describe('a project configured with hubspot:configure', () => {
  it('names dealgate.example.com nowhere in src/app or the extensions package', () => {
    expect(copy.result.publicUrl).toBe(PUBLIC_URL);
    expect(filesMentioning([join(copy.srcDir, 'app'), join(copy.dir, 'extensions')], 'dealgate.example.com')).toEqual([]);
    expect(filesMentioning([join(copy.srcDir, 'app'), join(copy.dir, 'extensions')], 'example.com')).toEqual([]);
    expect(copy.permittedFetchUrls).toEqual([PUBLIC_URL]);
  });

  it('has the card, settings and home entries', () => {
    expect(copy.entries.map((e) => [e.uid, e.type])).toEqual([
      ['dealgate_deal_card', 'card'],
      ['dealgate_home', 'page'],
      ['dealgate_settings', 'settings'],
    ]);
  });

  it.each([
    ['dealgate_deal_card', 'crm.record.tab', users.rep],
    ['dealgate_settings', 'settings', users.admin],
    ['dealgate_home', 'home', users.reviewer],
  ] as const)('%s, rendered from the copy, calls the configured service and shows its answer', async (uid, location, userId) => {
    const entry = copy.entries.find((e) => e.uid === uid);
    if (!entry) throw new Error(`no ${uid} in the copy`);
    const dealId = stack.sim.seedDeal({ properties: { dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' } }).id;
    const calls: FetchRecord[] = [];
    const extend = jest.spyOn(hubspot, 'extend').mockImplementation(() => undefined);
    const hubspotFetch = fetchAs(userId, calls);
    const fetch = jest.spyOn(hubspot, 'fetch').mockImplementation((url, options) => hubspotFetch(String(url), options as Parameters<ServiceFetcher>[1]));
    try {
      require(entry.entry);
      expect(extend).toHaveBeenCalledTimes(1);
      const renderer = createRenderer(location);
        const render = extend.mock.calls[0]?.[0] as unknown as (api: unknown) => ReactElement;
      renderer.render(render(extensionApi(renderer.mocks, userId, dealId)));
      // The first call names the configured URL (a refused fetch is recorded too, with status 0).
      await eventually(() => expect(calls.length).toBeGreaterThan(0));
      const first = { 'crm.record.tab': `/api/v1/deals/${dealId}/gate`, settings: '/api/v1/settings', home: '/api/v1/dashboard' }[location];
      expect(calls[0]).toMatchObject({ url: `${PUBLIC_URL}${first}`, status: 200 });
      // ...and the view shows the service's answer.
      if (location === 'crm.record.tab') {
        await renderer.waitFor(() => expect(renderer.findByTestId(StatusTag, 'gate-status').text).toBe('No review needed'), WAIT);
      } else if (location === 'settings') {
        await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold').props.value).toBe(50_000), WAIT);
      } else {
        await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
      }
      // Every call went to the configured URL and the service accepted HubSpot's signature over it.
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(call).toMatchObject({ url: expect.stringMatching(`^${PUBLIC_URL}/api/v1/`), status: 200 });
    } finally {
      extend.mockRestore();
      fetch.mockRestore();
    }
  });
});
