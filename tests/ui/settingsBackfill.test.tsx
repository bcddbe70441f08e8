import { NumberInput, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import { backfillLine } from '../../extensions/settings/backfillWording';
import { startLiveService, users, type LiveService } from './support/liveService';
import { says, WAIT } from './cardHarness';

/**
 * The settings page says where the install sweep of the account's existing deals stands, from
 * the service's real answer (GET /api/v1/settings `backfill`).
 */
let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

async function openSettings() {
  const renderer = createRenderer('settings');
  renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} />);
  await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold')).toBeDefined(), WAIT);
  return renderer;
}

describe('the settings page and the install sweep', () => {
  it('shows how many existing deals past the gate with a commitment the finished sweep checked', async () => {
    // Three deals that sat won with a commitment before the install, and two that do not count.
    const at = live.clock.now() - 3_600_000;
    const commitment = { dealgate_commitment: 'true', amount: '80000' };
    live.stack.sim.createDeals({ count: 3, stages: ['closedwon'], properties: { dealname: 'Won {n}', ...commitment }, at });
    live.stack.sim.createDeals({ count: 2, stages: ['contractsent'], properties: { dealname: 'Open {n}', ...commitment }, at });

    const before = await openSettings();
    expect(before.maybeFindByTestId(Text, 'settings-backfill')).toBeNull();

    // One round of the sweep worker: the provisioned account is enrolled and its backfill runs.
    await live.stack.background.sweeps.sweepDue();
    const renderer = await openSettings();
    expect(says(renderer, Text, 'settings-backfill')).toBe('Checked existing deals: 3 past the gate with a commitment (finished 2026-11-02 09:00 UTC).');
  });
});

describe('backfillLine', () => {
  const progress = { status: 'running' as const, checked: 1_200, total: 5_000, startedAt: '2026-11-02T09:00:00.000Z', finishedAt: null, lastError: null };

  it('counts the deals checked of the total while it runs', () => {
    expect(backfillLine(progress)).toBe('Checking existing deals: 1,200 of 5,000.');
  });

  it('says it is starting before the first page', () => {
    expect(backfillLine({ ...progress, status: 'pending', checked: 0, total: null, startedAt: null })).toBe('Checking existing deals: starting.');
  });

  it('says why it waits, and that it goes on by itself', () => {
    expect(backfillLine({ ...progress, lastError: 'HubSpot answered 503: Service unavailable' })).toBe(
      'Checking existing deals: 1,200 of 5,000. Waiting for HubSpot (HubSpot answered 503: Service unavailable); it goes on by itself.',
    );
  });
});
