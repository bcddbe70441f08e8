import { Alert, BarChart, LineChart, LoadingButton, NumberInput, ProgressBar, StatisticsItem, Text, TableRow } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, reads, says, WAIT } from './cardHarness';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

const REP_OWNER_ID = '7100';
const HOUR = 3_600_000;

async function openLoadedHome(userId: string): Promise<Renderer<'home'>> {
  const renderer = createRenderer('home');
  renderer.render(<DealDeskHome fetcher={live.fetcherFor(userId)} baseUrl={live.url} userId={userId} />);
  await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
  return renderer;
}

/** A deal the rep owns, in Contract Sent, its commitment approved by the reviewer `hours` after the request, then won. */
async function approvedAndWon(name: string, amount: number, hours: number): Promise<string> {
  const dealId = live.seedDeal({ dealname: name, dealstage: 'contractsent', amount: String(amount), hubspot_owner_id: REP_OWNER_ID });
  const requested = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: `${name} connector`, effortWeeks: 2 });
  live.clock.advance(hours * HOUR);
  expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${requested.json.review?.id ?? 0}/decision`, { outcome: 'yes' })).status).toBe(200);
  await live.stack.settle();
  live.stack.sim.moveDealToStage(dealId, 'closedwon', { userId: Number(users.rep) });
  await live.stack.settle();
  return dealId;
}

describe('the home page’s shared metrics', () => {
  it('shows the goal’s progress, then the moment it is reached, sales’ side, and charts drawn from the service’s series', async () => {
    live.stack.sim.seedOwner({ id: REP_OWNER_ID, userId: Number(users.rep), email: 'rep@example.com' });
    const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    const put = await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, capacity: { engineerWeeksPerQuarter: 50, commitmentShare: 0.4 }, revenueGoal: 150_000 });
    expect(put.status).toBe(200);

    await approvedAndWon('Globex', 100_000, 4);
    let renderer = await openLoadedHome(users.reviewer);
    expect(says(renderer, Text, 'revenue-goal')).toBe('100,000 of the 150,000 goal (67%): 100,000 won with commitments engineering approved this quarter, 0 of it delivered.');
    expect(renderer.findByTestId(ProgressBar, 'revenue-goal-bar').props).toMatchObject({ value: 100_000, maxValue: 150_000 });
    expect(renderer.maybeFindByTestId(Alert, 'revenue-goal-reached')).toBeNull();

    const initech = await approvedAndWon('Initech', 60_000, 10);
    // The rep drags a third deal past the gate without sign-off: Dealgate moves it back and counts it against the rep.
    const skipped = live.seedDeal({ dealname: 'Stark', dealstage: 'contractsent', amount: '90000', hubspot_owner_id: REP_OWNER_ID, dealgate_commitment: 'true', dealgate_commitment_summary: 'Custom API', dealgate_effort_weeks: '2' });
    live.stack.sim.moveDealToStage(skipped, 'closedwon', { userId: Number(users.rep) });
    await live.stack.settle();

    renderer = await openLoadedHome(users.reviewer);
    expect(says(renderer, Alert, 'revenue-goal-reached')).toContain("Engineering's revenue goal of 150,000 for 2026-Q4 is reached: 160,000 won with commitments engineering approved this quarter");
    expect(says(renderer, Alert, 'revenue-goal-reached')).toContain('Initech took it there');
    expect(renderer.maybeFindByTestId(ProgressBar, 'revenue-goal-bar')).toBeNull();
    expect(live.stack.sim.notesForDeal(initech).filter((n) => (n.properties.hs_note_body ?? '').includes('revenue goal'))).toHaveLength(1);
    // Two approvals of 2 weeks each of the customer share's 20 (40% of 50).
    expect(says(renderer, Text, 'capacity-promised')).toBe("20% of this quarter's customer capacity already promised (4 weeks of 20 weeks).");
    // The rep by the name HubSpot gives the owner (the simulator names rep@example.com "Rep User").
    expect(reads(renderer, TableRow, `violations-rep-${REP_OWNER_ID}`)).toBe(`Rep User (owner ${REP_OWNER_ID}) | 1`);

    // The clock started on Monday, Nov 2: the fifth week of the quarter (from Oct 29) holds both yeses.
    const decisions = renderer.findByTestId(BarChart, 'chart-decisions').props.data;
    expect(Array.isArray(decisions) ? decisions.filter((p) => p.week === '2026-10-29') : []).toEqual([
      { week: '2026-10-29', outcome: 'Yes', count: 2 },
      { week: '2026-10-29', outcome: 'Yes, but', count: 0 },
      { week: '2026-10-29', outcome: 'No', count: 0 },
    ]);
    expect(renderer.findByTestId(LineChart, 'chart-median-hours').props.data).toEqual([{ week: '2026-10-29', hours: 7 }]);
    expect(renderer.findByTestId(BarChart, 'chart-capacity').props.data).toEqual([
      { share: 'Customer commitments', measure: 'Allocated', weeks: 20 },
      { share: 'Customer commitments', measure: 'Promised', weeks: 4 },
      { share: 'Maintenance and tech debt', measure: 'Allocated', weeks: 10 },
      { share: 'Product work', measure: 'Allocated', weeks: 20 },
    ]);
    // As the demo prints it: one line per bar group.
    expect(reads(renderer, BarChart, 'chart-capacity')).toBe('Customer commitments: Allocated 20; Promised 4\nMaintenance and tech debt: Allocated 10\nProduct work: Allocated 20');
    expect(renderer.findByTestId(LineChart, 'chart-revenue').props.data).toContainEqual({ week: '2026-10-29', series: 'Won, approved', amount: 160_000 });
    expect(renderer.findByTestId(LineChart, 'chart-revenue').props.data).toContainEqual({ week: '2026-10-29', series: 'Goal', amount: 150_000 });
    expect(renderer.findByTestId(Text, 'chart-on-time-none')).toBeDefined();
  });

  it('says there is no goal and nothing is tracked yet, without charts that would draw nothing', async () => {
    const renderer = await openLoadedHome(users.admin);
    expect(says(renderer, Text, 'revenue-goal')).toBe('No revenue goal set (an admin sets one in the settings): 0 won with commitments engineering approved this quarter, 0 of it delivered.');
    expect(says(renderer, Text, 'capacity-promised')).toBe('Capacity is not tracked: an admin sets engineering capacity in the settings.');
    expect(renderer.findByTestId(Text, 'violations-by-rep-none')).toBeDefined();
    expect(renderer.findByTestId(Text, 'chart-median-none')).toBeDefined();
    expect(renderer.findByTestId(Text, 'chart-capacity-none')).toBeDefined();
    expect(renderer.maybeFindByTestId(LineChart, 'chart-median-hours')).toBeNull();
  });

  it('lets an admin set the goal on the settings page, and clear it again', async () => {
    const renderer = createRenderer('settings');
    renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-revenue-goal').props.value).toBeUndefined(), WAIT);
    fire(renderer.findByTestId(NumberInput, 'settings-revenue-goal'), 'onChange', 1_000_000);
    const puts = () => live.calls.filter((c) => c.method === 'PUT' && c.status === 200).length;
    const saved = async () => (await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings')).json.settings.revenueGoal;
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(puts()).toBe(1), WAIT);
    await renderer.waitFor(() => expect(renderer.findByTestId(LoadingButton, 'settings-save').props.loading).toBe(false), WAIT);
    expect(await saved()).toBe(1_000_000);

    fire(renderer.findByTestId(NumberInput, 'settings-revenue-goal'), 'onChange', -5);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-revenue-goal').props.error).toBe(true), WAIT);
    expect(renderer.findByTestId(NumberInput, 'settings-revenue-goal').props.validationMessage).toBe('must be more than 0 (clear it for no goal)');

    // Refused in the form, never sent.
    expect(puts()).toBe(1);
    fire(renderer.findByTestId(NumberInput, 'settings-revenue-goal'), 'onChange', Number.NaN);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(puts()).toBe(2), WAIT);
    await renderer.waitFor(() => expect(renderer.findByTestId(LoadingButton, 'settings-save').props.loading).toBe(false), WAIT);
    // Absent from the saved settings: no goal.
    expect(await saved()).toBeUndefined();
  });
});
