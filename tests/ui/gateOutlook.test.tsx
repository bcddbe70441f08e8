import { Alert, LoadingButton, TableCell, TableRow, Text } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import type { SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, openLoadedCard, WAIT } from './cardHarness';
import { sweepFound } from '../enforcement/world';

/**
 * What the card and the home page tell people about the gate under the account's settings
 * (issue 11: "the card says what Dealgate will do, never more"), rendered with HubSpot's test
 * renderer against the real service and simulator.
 */
let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

async function setAfterClose(afterClose: 'revert' | 'flag') {
  const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
  expect((await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, afterClose })).status).toBe(200);
}

const outlook = (renderer: Renderer<'crm.record.tab'>) =>
  renderer.findAll(Text).find((t) => t.props.testId === 'glance-outlook' || t.props.testId === 'glance-past-gate');

describe('the card says what the gate will do', () => {
  it('before the gate: a yes is needed, and under afterClose=flag a won deal is flagged instead', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'contractsent', amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' });
    let renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.text).toBe('Moving it past Contract Sent needs a yes first: Dealgate moves it back otherwise.');
    await setAfterClose('flag');
    renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.text).toBe('Moving it past Contract Sent needs a yes first: Dealgate moves it back otherwise (a won deal is flagged instead).');
  });

  it('a won deal without sign-off under afterClose=flag is flagged, not moved back', async () => {
    await setAfterClose('flag');
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'closedwon', amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' });
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.props.testId).toBe('glance-past-gate');
    expect(outlook(renderer)?.text).toBe('This won deal has no sign-off: Dealgate flags it for the deal desk and it stays won. Request a review.');
  });

  it('a deal past the gate that the tightened rules flagged is said to stay where it is, not to be moved back', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'closedwon', amount: '30000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' });
    let renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.text).toBe('No review is needed: it may move past Contract Sent.');
    const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    expect((await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, valueThreshold: 20_000 })).status).toBe(200);
    await live.stack.settle();
    renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.props.testId).toBe('glance-past-gate');
    expect(outlook(renderer)?.text).toBe(
      'This deal passed Contract Sent before the rules tightened and has no sign-off: it is flagged for the deal desk and stays where it is. Request a review.',
    );
    // What the card says is what Dealgate does: the deal stays won.
    expect(live.stack.sim.getDeal(dealId)?.properties.dealstage).toBe('closedwon');
  });

  it('a deal with no review needed may move past the gate', async () => {
    const dealId = live.seedDeal({ dealname: 'Small', dealstage: 'contractsent', amount: '1000' });
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.text).toBe('No review is needed: it may move past Contract Sent.');
  });
});

/** A deal the install sweep found past the gate with a commitment (as the backfill's inbox event leaves it): flagged, not moved. */
async function foundAtInstall(): Promise<string> {
  // Won an hour before Dealgate was installed (its passage predates Dealgate).
  const dealId = live.seedDeal({ dealname: 'Old win', dealstage: 'closedwon', amount: '90000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' }, { at: live.clock.now() - 3_600_000 });
  await live.stack.store.inbox.insertBatch(
    [
      sweepFound(live.stack.sim, dealId, 'backfill'),
    ],
    live.clock.now(),
  );
  await live.stack.settle();
  return dealId;
}

describe('deals found at install', () => {
  it('the card says the deal stays where it is, unless an admin enforces the deals found at install', async () => {
    const dealId = await foundAtInstall();
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(outlook(renderer)?.text).toBe(
      'This deal was already past Contract Sent without sign-off when Dealgate was installed: it is flagged for the deal desk and stays where it is unless an admin enforces the deals found at install. Request a review.',
    );
    expect(live.stack.sim.getDeal(dealId)?.properties.dealstage).toBe('closedwon');
  });

  it('a reviewer sees them on the home page without the admins\' enforce button (the service would refuse them)', async () => {
    await foundAtInstall();
    const renderer = createRenderer('home');
    renderer.render(<DealDeskHome fetcher={live.fetcherFor(users.reviewer)} baseUrl={live.url} userId={users.reviewer} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'flag-counts').text).toContain('Found at install: 1.'), WAIT);
    expect(renderer.findAll(LoadingButton).filter((b) => b.props.testId === 'enforce-backfill')).toEqual([]);
  });
});

describe('the home page lists what the gate did not move', () => {
  it('shows flagged deals with their counts, and the rule changes', async () => {
    await setAfterClose('flag');
    const renderer = createRenderer('home');
    renderer.render(<DealDeskHome fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} userId={users.admin} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'flag-counts').text).toContain('Won without sign-off: 0.'), WAIT);
    const changes = renderer.findAll(Text).filter((t) => String(t.props.testId ?? '').startsWith('home-change-'));
    expect(changes.map((t) => t.text)).toEqual([expect.stringContaining('Barbara Liskov (left the gate as it was): a won deal without sign-off moved back -> flagged, stays won')]);
    // Nothing was found at install, so there is nothing to enforce.
    expect(renderer.findAll(LoadingButton).filter((b) => b.props.testId === 'enforce-backfill')).toEqual([]);
    expect(renderer.findAll(TableRow).filter((r) => String(r.props.testId ?? '').startsWith('flag-'))).toEqual([]);
    expect(renderer.findAll(Alert).filter((a) => String(a.props.testId ?? '').startsWith('home-ungated-'))).toEqual([]);
  });

  it('offers admins the enforcement of the deals found at install, and says what it queued', async () => {
    // Won an hour before Dealgate was installed (its passage predates Dealgate).
  const dealId = live.seedDeal({ dealname: 'Old win', dealstage: 'closedwon', amount: '90000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' }, { at: live.clock.now() - 3_600_000 });
    await live.stack.store.inbox.insertBatch(
      [
        sweepFound(live.stack.sim, dealId, 'backfill'),
      ],
      live.clock.now(),
    );
    await live.stack.settle();
    const renderer = createRenderer('home');
    renderer.render(<DealDeskHome fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} userId={users.admin} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(LoadingButton, 'enforce-backfill').text).toBe('Enforce the 1 deal found at install'), WAIT);
    const row = renderer.findAll(TableRow).find((r) => String(r.props.testId ?? '').startsWith('flag-'));
    const cells = row?.findAll(TableCell).map((c) => c.text ?? '') ?? [];
    expect(cells[0]).toBe('Old win');
    expect(cells[1]).toContain('Found at install: sits in Closed Won, past the gate, without a technical review sign-off');
    fire(renderer.findByTestId(LoadingButton, 'enforce-backfill'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'enforce-backfill-outcome').text).toBe('1 deal found at install queued: Dealgate moves them back before the gate.'), WAIT);
    await live.stack.settle();
    expect(live.stack.sim.getDeal(dealId)?.properties.dealstage).toBe('contractsent');
  });
});
